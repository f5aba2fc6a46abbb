// Duplex (request/response) channel over two ordinary ZeroBuffer v1 buffers (contract §7).
//
// A channel CH is two buffers and nothing else on the wire:
//
//   CH_request   created by the server (its Reader, with the server's BufferConfig);
//                the client attaches as Writer and sends requests. Client metadata goes here.
//   CH_response  created by the client (its Reader, 4096 B metadata / 256 MiB payload by
//                default); the server attaches as Writer and sends responses.
//
// Correlation is FIFO only: the k-th response frame answers the k-th request frame. There is no
// correlation field, so a server must write exactly one response frame per request; see
// ResponsePolicy for what this server does when a handler breaks that rule.
//
// Compared with the Python and C# peers this implementation adds (without changing the wire):
//   * stop() returns within about one poll interval (20 ms by default), not a read timeout;
//   * a server outlives its clients: when a client disconnects or dies it is reported through
//     the error handler and the server waits for the next client on the same channel;
//   * a client may start before the server and waits for it up to its connect timeout; it
//     reconnects by itself to a restarted server (see DuplexClient for the exact rule);
//   * thread_pool mode: handlers run concurrently, responses still leave in request order.
//
// The declarations live in zerobuffer/duplex/: names.h (channel and buffer names), errors.h
// (DuplexTimeoutException, DuplexError, ErrorHandler), response_writer.h, server.h, client.h,
// factory.h. See docs/duplex.md for the design and the reasons behind each policy.
#pragma once

#include "zerobuffer/duplex/client.h"
#include "zerobuffer/duplex/errors.h"
#include "zerobuffer/duplex/factory.h"
#include "zerobuffer/duplex/names.h"
#include "zerobuffer/duplex/response_writer.h"
#include "zerobuffer/duplex/server.h"
