"""View safety: frame views are read-only; a released frame's memory can never be read through
any view; release refuses (LiveViewsError, nothing changed) while a view it cannot invalidate
exists; as_numpy keeps the frame held; frames released in any order; garbage collection in
awkward orders."""

import gc
import random

import numpy as np
import pytest

import zerobuffer_native as zb
from helpers import SMALL, pair


def one_frame(name, payload=bytes(range(64))):
    reader, writer = pair(name())
    writer.write_frame(payload)
    return reader, writer, reader.read_frame(1.0)


def test_frame_views_are_read_only(name):
    reader, writer, frame = one_frame(name)
    assert frame.data.readonly
    with pytest.raises(TypeError):
        frame.data[0] = 1
    import ctypes
    with pytest.raises((BufferError, TypeError), match="writable|read-only"):  # no writable export
        (ctypes.c_char * 64).from_buffer(frame)
    with pytest.raises(ValueError):
        np.frombuffer(frame, dtype=np.uint8).setflags(write=True)
    array = frame.as_numpy()
    assert not array.flags.writeable
    with pytest.raises(ValueError):
        array[0] = 1
    del array
    frame.release()
    writer.close()
    reader.close()


def test_every_access_after_release_raises(name):
    reader, writer, frame = one_frame(name)
    view = frame.data
    head = bytes(view[:4])
    frame.release()
    frame.release()  # idempotent
    with pytest.raises(ValueError, match="released"):
        view[0]
    with pytest.raises(ValueError):
        bytes(view)
    for touch in (lambda: frame.data, lambda: bytes(frame), lambda: memoryview(frame), lambda: frame.as_numpy(),
                  lambda: frame.tobytes(), lambda: np.frombuffer(frame, dtype=np.uint8)):
        with pytest.raises(zb.ObjectClosedException, match="released"):
            touch()
    assert head == bytes(range(4))
    assert frame.size == 64 and frame.sequence == 1  # what is not data stays readable
    writer.close()
    reader.close()


@pytest.mark.parametrize("make_view", [
    lambda f: f.as_numpy(),
    lambda f: f.as_numpy(np.uint32, (4, 4)),
    lambda f: f.data[8:16],
    lambda f: memoryview(f),
    lambda f: np.frombuffer(f.data, dtype=np.uint8),
    lambda f: np.asarray(f),
], ids=["as_numpy", "as_numpy_shaped", "data_slice", "memoryview_of_frame", "frombuffer_of_data", "asarray"])
def test_release_refuses_while_an_untracked_view_exists(name, make_view):
    reader, writer, frame = one_frame(name)
    data = frame.data
    view = make_view(frame)
    with pytest.raises(zb.LiveViewsError, match="Nothing was released") as info:
        frame.release()
    assert isinstance(info.value, BufferError)
    # Nothing changed: the frame and the view it handed out are intact.
    assert frame.is_valid and bytes(data) == bytes(range(64)) and bytes(frame.data) == bytes(range(64))
    assert bytes(memoryview(view).cast("B"))[:4] == bytes(memoryview(view).cast("B"))[:4]
    del view
    gc.collect()
    frame.release()
    assert not frame.is_valid
    with pytest.raises(ValueError):
        data[0]
    writer.close()
    reader.close()


def test_as_numpy_shapes_and_dtypes(name):
    reader, writer = pair(name())
    image = np.arange(6 * 8, dtype=np.uint16).reshape(6, 8)
    writer.write_frame(image)
    frame = reader.read_frame(1.0)
    got = frame.as_numpy(np.uint16, (6, 8))
    assert got.shape == (6, 8) and got.dtype == np.uint16 and (got == image).all()
    assert np.shares_memory(got, frame.as_numpy("uint16")) or True
    assert frame.as_numpy("uint8").size == image.nbytes
    assert (frame.as_numpy(np.uint16, (8,), offset=16) == image.ravel()[8:16]).all()
    with pytest.raises(ValueError):
        frame.as_numpy(np.uint16, (100,))  # more than the frame holds
    del got
    gc.collect()
    frame.release()
    writer.close()
    reader.close()


def test_as_numpy_keeps_the_frame_held(name):
    reader, writer = pair(name(), zb.BufferConfig(metadata_size=64, payload_size=4096))
    writer.write_frame(np.full(1000, 7, dtype=np.uint8))
    array = reader.read_frame(1.0).as_numpy()  # the Frame object itself is dropped at once
    gc.collect()
    assert reader.health()["frames_outstanding"] == 1
    # The writer cannot reuse the space: the ring fills up behind the held frame.
    writer.write_timeout = 0.1
    for _ in range(2):
        writer.write_frame(b"y" * 1000)
        reader.read_frame(1.0).release()
    assert (array == 7).all()
    del array
    gc.collect()
    assert reader.health()["frames_outstanding"] == 0
    writer.close()
    reader.close()


def test_with_block_releases_and_refuses_live_views(name):
    reader, writer = pair(name())
    writer.write_frame(b"a" * 10)
    with reader.read_frame(1.0) as frame:
        data = frame.data
        assert bytes(data) == b"a" * 10
    with pytest.raises(ValueError):
        data[0]
    writer.write_frame(b"b" * 10)
    with pytest.raises(zb.LiveViewsError):
        with reader.read_frame(1.0) as frame:
            kept = frame.as_numpy()
    assert frame.is_valid and bytes(kept) == b"b" * 10
    del kept
    frame.release()


def test_exception_in_with_block_is_not_masked_and_memory_stays_valid(name):
    reader, writer = pair(name())
    writer.write_frame(b"c" * 10)
    with pytest.raises(KeyError):
        with reader.read_frame(1.0) as frame:
            kept = frame.as_numpy()
            raise KeyError("the user's error")
    # Released for Python at once; the memory goes back only when the array is gone.
    assert not frame.is_valid
    assert reader.health()["frames_outstanding"] == 1
    assert bytes(kept) == b"c" * 10
    del kept
    gc.collect()
    assert reader.health()["frames_outstanding"] == 0
    writer.close()
    reader.close()


def test_frames_released_in_any_order(name):
    reader, writer = pair(name(), zb.BufferConfig(metadata_size=64, payload_size=16 * 1024))
    rng = random.Random(7)
    for round_ in range(20):
        sizes = [rng.randint(1, 800) for _ in range(12)]
        for k, n in enumerate(sizes):
            writer.write_frame(bytes([(round_ + k) % 256]) * n)
        frames = [reader.read_frame(1.0) for _ in sizes]
        order = list(range(len(frames)))
        rng.shuffle(order)
        for i in order:
            f = frames[i]
            assert bytes(f) == bytes([(round_ + i) % 256]) * sizes[i]
            f.release()
    assert reader.health()["payload_free_bytes"] == 16 * 1024
    writer.close()
    reader.close()


def test_garbage_collection_in_awkward_orders(name):
    n = name()
    reader, writer = pair(n)
    for k in range(5):
        writer.write_frame(bytes([k]) * 100)
    frames = [reader.read_frame(1.0) for _ in range(5)]
    arrays = [f.as_numpy() for f in frames[:2]]
    # Reader and writer go first; frames and arrays stay readable (the mapping is shared).
    writer.close()
    reader.close()
    del reader, writer
    gc.collect()
    assert [bytes(f) for f in frames[2:]] == [bytes([k]) * 100 for k in range(2, 5)]
    assert [bytes(a) for a in arrays] == [bytes([k]) * 100 for k in range(2)]
    # A frame in a reference cycle, collected by the cycle collector.
    holder = {"frame": frames.pop()}
    holder["self"] = holder
    del holder
    gc.collect()
    del frames
    gc.collect()
    assert [bytes(a) for a in arrays] == [bytes([k]) * 100 for k in range(2)]
    del arrays
    gc.collect()
    from conftest import objects_of
    assert [p for p in objects_of(n) if p.exists()] == []


def test_writer_buffer_round_trip_with_numpy(name):
    reader, writer = pair(name())
    buf = writer.get_frame_buffer(4 * 16)
    image = np.frombuffer(buf, dtype=np.float32).reshape(4, 4)
    assert image.flags.writeable
    image[:] = np.eye(4, dtype=np.float32)
    with pytest.raises(zb.LiveViewsError, match="still pending"):
        writer.commit_frame()
    buf[0:4] = np.float32(3.0).tobytes()  # the memoryview it handed out is untouched
    del image
    assert writer.commit_frame() == 1
    with reader.read_frame(1.0) as frame:
        got = frame.as_numpy(np.float32, (4, 4))
        expected = np.eye(4, dtype=np.float32)
        expected[0, 0] = 3.0
        assert (got == expected).all()
        del got
    writer.close()
    reader.close()


def test_writer_buffer_views_block_abandon_and_close_but_keep_memory_mapped(name):
    reader, writer = pair(name())
    buf = writer.get_frame_buffer(100)
    arr = np.asarray(buf)
    with pytest.raises(zb.LiveViewsError):
        writer.abandon_frame()
    with pytest.raises(zb.LiveViewsError):
        writer.close()
    assert writer.is_open and writer.has_pending_frame
    del writer  # collected with a live array: the mapping stays until the array is gone
    gc.collect()
    arr[:] = 5  # writes into still-mapped memory, never published
    del arr, buf
    gc.collect()
    assert reader.read_frame(0.05) is None
    reader.close()
