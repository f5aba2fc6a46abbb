"""Command line: --version, --help on every subcommand, bad usage and invalid names (exit 2,
nothing touched), missing buffers (exit 1) with clear messages."""

import os

import pytest

from clitest import EXIT_FAILED, EXIT_OK, EXIT_USAGE, existing, zb

SUBCOMMANDS = ["ls", "inspect", "watch", "cleanup"]


def test_version_is_the_project_version():
    r = zb("--version")
    assert r.returncode == EXIT_OK
    want = os.environ.get("ZEROBUFFER_EXPECTED_VERSION")
    assert want, "ZEROBUFFER_EXPECTED_VERSION is not set (CMake passes the project version)"
    assert r.stdout.startswith(f"zerobuffer {want} ")
    assert "protocol ZeroBuffer v1" in r.stdout


@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_help_of_every_subcommand(sub):
    r = zb(sub, "--help")
    assert r.returncode == EXIT_OK and r.stderr == ""
    assert r.stdout.startswith(f"usage: zerobuffer {sub}")
    assert "exit codes:" in r.stdout
    assert zb(sub, "-h").stdout == r.stdout


def test_top_level_help_and_errors():
    r = zb("--help")
    assert r.returncode == EXIT_OK
    for sub in SUBCOMMANDS:
        assert f"\n  {sub}" in r.stdout
    r = zb()
    assert r.returncode == EXIT_USAGE and r.stderr.startswith("usage: zerobuffer")
    r = zb("frobnicate")
    assert r.returncode == EXIT_USAGE and "unknown command 'frobnicate'" in r.stderr


@pytest.mark.parametrize("args,message", [
    (["cleanup"], "name the buffers to clean up, or use --stale"),
    (["cleanup", "--stale", "x"], "give buffer names or --stale, not both"),
    (["cleanup", "--stale", "--force"], "--force applies only to buffers named explicitly"),
    (["cleanup", "x", "--match", "y*"], "--match applies only with --stale"),
    (["inspect"], "missing argument NAME"),
    (["inspect", "a", "b"], "unexpected argument 'b'"),
    (["watch"], "missing argument NAME"),
    (["watch", "x", "--interval-ms", "10"], "--interval-ms must be in [50, 3600000], got 10"),
    (["watch", "x", "--count", "many"], "--count: 'many' is not an integer"),
    (["ls", "--bogus"], "unknown option '--bogus'"),
    (["ls", "extra"], "unexpected argument 'extra'"),
])
def test_bad_usage(args, message):
    r = zb(*args)
    assert r.returncode == EXIT_USAGE, r.stdout + r.stderr
    assert message in r.stderr
    assert f"(see zerobuffer {args[0]} --help)" in r.stderr
    assert r.stdout == ""


@pytest.mark.parametrize("name,reason", [
    ("a/b", "contains '/'"),
    ("sem.sem-w-x", "names starting with 'sem.'"),
    ("", "it is empty"),
    ("..", "invalid buffer name '..'"),
    ("n" * 246, "246 characters, the limit is 245"),
])
@pytest.mark.parametrize("sub", ["inspect", "watch", "cleanup"])
def test_invalid_names(sub, name, reason):
    r = zb(sub, name)
    assert r.returncode == EXIT_USAGE, r.stdout + r.stderr
    assert f"zerobuffer {sub}: invalid buffer name" in r.stderr and reason in r.stderr
    assert r.stdout == ""


def test_an_invalid_name_stops_cleanup_before_anything_is_removed(env):
    stale = env.name("stale")
    env.cpp_reader(stale).kill()
    before = existing(stale)
    r = zb("cleanup", stale, "bad/name")
    assert r.returncode == EXIT_USAGE
    assert existing(stale) == before


def test_missing_buffer(env):
    name = env.name("missing")
    for sub in ("inspect", "watch"):
        r = zb(sub, name)
        assert r.returncode == EXIT_FAILED, r.stdout + r.stderr
        assert f"zerobuffer {sub}: no buffer '{name}': none of /dev/shm/{name}," in r.stderr
        assert r.stdout == ""
    r = zb("inspect", ".zb-tmp-1-1")
    assert r.returncode == EXIT_FAILED and "no temporary segment /dev/shm/.zb-tmp-1-1" in r.stderr
