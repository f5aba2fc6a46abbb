"""Topics, the publishing side: loans and numpy, Ctrl-C, the GIL and a close from another thread
while a publish waits, the subscriber-change callback."""

import gc
import sys
import threading
import weakref

import numpy as np
import pytest

import zerobuffer_native as zb
from helpers import wait_until
from topic_helpers import RING, fill, frame_bytes, interrupt_after, read_all


@pytest.mark.parametrize("call", ["publish", "acquire_frame", "commit"])
def test_ctrl_c_interrupts_a_publish_waiting_for_a_full_subscriber(topic, call):
    t = topic()
    with zb.Publisher(t, write_timeout=60) as publisher:
        roomy = zb.Subscriber(t, RING, "a")
        assert publisher.wait_for_subscribers(1, timeout=10.0)  # served first
        full = zb.Subscriber(t, zb.BufferConfig(metadata_size=64, payload_size=4096), "b")
        assert publisher.wait_for_subscribers(2, timeout=10.0)
        fill(publisher, full)
        loan = publisher.acquire_frame(1000) if call == "commit" else None  # in the roomy ring
        if call == "acquire_frame":
            roomy.close()  # the loan must wait for the full one
            wait_until(lambda: publisher.subscriber_count == 1)
        interrupt_after(0.2)
        with pytest.raises(KeyboardInterrupt):
            {"publish": lambda: publisher.publish(b"x" * 1000), "acquire_frame": lambda: publisher.acquire_frame(1000),
             "commit": lambda: loan.commit()}[call]()
        states = {i.id: i.state for i in publisher.subscribers()}
        assert states["b"] is zb.SubscriberState.ACTIVE  # interrupted, not dropped
        while (frame := full.try_read_frame()) is not None:
            frame.release()
        assert publisher.publish(b"after") == publisher.subscriber_count  # goes on, nothing pending
        roomy.close()
        full.close()


def test_the_gil_is_released_while_a_publish_waits(topic):
    t = topic()
    # If the waiting publish held the GIL, the thread below could not drain the ring and the
    # publish would wait for the whole write timeout, then drop the subscriber (got == 0).
    with zb.Publisher(t, write_timeout=60) as publisher, \
            zb.Subscriber(t, zb.BufferConfig(metadata_size=64, payload_size=4096), "s") as s:
        assert publisher.wait_for_subscribers(1, timeout=10.0)
        k = fill(publisher, s)
        drained = []

        def drain():
            threading.Event().wait(0.2)
            frame = s.read_frame(timeout=10.0)
            drained.append(bytes(frame))
            frame.release()

        thread = threading.Thread(target=drain)
        thread.start()
        assert publisher.publish(frame_bytes(k, 1000)) == 1
        thread.join(60)
        assert drained == [frame_bytes(0, 1000)]
        read_all(s, [1000] * k, first=1)


def test_close_from_another_thread_ends_a_waiting_publish(topic):
    t = topic()
    with zb.Subscriber(t, zb.BufferConfig(metadata_size=64, payload_size=4096), "s") as s:
        publisher = zb.Publisher(t, write_timeout=60)
        assert publisher.wait_for_subscribers(1, timeout=10.0)
        k = fill(publisher, s)
        closer = threading.Timer(0.2, publisher.close)
        closer.start()
        with pytest.raises(zb.ObjectClosedException, match="closed"):  # while waiting, or before
            publisher.publish(b"x" * 1000)
        closer.join(60)
        assert not publisher.is_open
        read_all(s, [1000] * k)  # what it got before, then the departure
        with pytest.raises(zb.WriterDeadException):
            s.read_frame(timeout=10.0)


def test_loans_fill_the_ring_in_place_with_numpy(topic):
    t = topic()
    with zb.Publisher(t) as publisher:
        assert publisher.acquire_frame(10).commit() == 0  # nobody: a scratch buffer
        subs = [zb.Subscriber(t, RING, i) for i in ("a", "b")]
        assert publisher.wait_for_subscribers(2, timeout=10.0)
        loan = publisher.acquire_frame(4096)
        assert isinstance(loan, zb.PublishLoan) and loan.pending and len(loan) == loan.size == 4096
        view = loan.data
        assert isinstance(view, memoryview) and not view.readonly and loan.data is view
        array = np.frombuffer(view, dtype=np.uint32)
        array[:] = np.arange(1024, dtype=np.uint32)
        with pytest.raises(zb.LiveViewsError):
            loan.commit()  # the array could write into a published frame
        with pytest.raises(zb.UsageException, match="pending"):
            publisher.publish(b"x")  # one loan at a time
        del array
        assert loan.commit() == 2 and not loan.pending
        with pytest.raises(ValueError):
            view[0] = 1  # revoked by the commit
        with pytest.raises(zb.ObjectClosedException):
            loan.data
        with pytest.raises(zb.UsageException):
            loan.commit()
        with publisher.acquire_frame(8) as second:
            second.data[:] = b"ctx-mgr!"
        with pytest.raises(RuntimeError, match="boom"):
            with publisher.acquire_frame(8) as third:
                third.data[:] = b"never!!!"
                raise RuntimeError("boom")
        assert not third.pending  # abandoned
        fourth = publisher.acquire_frame(3)
        fourth.abandon()
        fourth.abandon()
        publisher.acquire_frame(5).data[:] = b"gone!"  # dropped without commit: abandoned
        gc.collect()
        assert publisher.publish(b"last") == 2
        for s in subs:
            with s.read_frame(timeout=10.0) as frame:
                image = frame.as_numpy(np.uint32)
                assert np.array_equal(image, np.arange(1024, dtype=np.uint32)) and not image.flags.writeable
                del image
            for expected in (b"ctx-mgr!", b"last"):
                with s.read_frame(timeout=10.0) as frame:
                    assert bytes(frame) == expected
            s.close()
        assert publisher.frames_published == 4


def test_closing_a_publisher_refuses_while_a_loan_has_a_live_array(topic):
    t = topic()
    with zb.Subscriber(t, RING, "a") as s:
        publisher = zb.Publisher(t)
        assert publisher.wait_for_subscribers(1, timeout=10.0)
        assert publisher.publish(b"one") == 1
        loan = publisher.acquire_frame(64)
        array = np.frombuffer(loan.data, dtype=np.uint8)
        with pytest.raises(zb.LiveViewsError):
            publisher.close()
        assert publisher.is_open and loan.pending
        array[:] = 1
        del array
        publisher.close()
        assert not publisher.is_open and not loan.pending
        with pytest.raises(zb.UsageException):
            loan.commit()
        with pytest.raises(zb.ObjectClosedException):
            publisher.publish(b"x")
        with s.read_frame(timeout=10.0) as frame:
            assert bytes(frame) == b"one"  # the loan never reached it
        with pytest.raises(zb.WriterDeadException):
            s.read_frame(timeout=10.0)


def test_a_failing_callback_is_reported_and_the_publisher_goes_on(topic, monkeypatch):
    t = topic()
    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)

    def callback(info):
        raise RuntimeError(f"callback failed for {info.id}")

    with zb.Publisher(t, on_subscriber_change=callback) as publisher, zb.Subscriber(t, RING, "s") as s:
        assert publisher.wait_for_subscribers(1, timeout=10.0)
        wait_until(lambda: reported)
        assert "callback failed for s" in str(reported[0].exc_value)
        assert publisher.publish(b"still served") == 1
        with s.read_frame(timeout=10.0) as frame:
            assert bytes(frame) == b"still served"


def test_a_publisher_whose_callback_refers_to_it_is_collected(topic):
    t = topic()
    class Owner:
        pass

    owner = Owner()  # owner -> publisher -> its callback -> owner: only the cyclic GC frees it
    owner.publisher = zb.Publisher(t, on_subscriber_change=lambda info, o=owner: o.publisher.subscriber_count)
    ref = weakref.ref(owner.publisher)
    del owner
    gc.collect()
    assert ref() is None
