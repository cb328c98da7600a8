// RespSession: one RESP2 connection's protocol, without I/O (bytes in -> store calls -> reply bytes out),
// in the manner of server::ClientSession, so the listener of the stream server drives both alike.
//
// The listener feeds receive() the bytes the socket reads and writes what take_output() returns; tests
// drive it directly. receive() reads whole commands (request_reader.h) and answers at once, in order,
// everything that needs no store: protocol errors, unknown commands and wrong arities, AUTH and HELLO,
// MULTI bookkeeping (QUEUED, DISCARD, EXECABORT), CLIENT. Everything else is queued and run by step(),
// one command or one EXEC per call. Replies always leave in the order the commands came.
//
// Writes never hold a thread: step() plans a command (or EXEC: executor.h), hands its batch to
// BatchWriter::apply_async and returns; the store's writer thread records the outcome after the
// commit and calls `wake`; a later step answers it (or plans it again when a key changed under it).
// While a write is unanswered the next command waits (it may read what that write changes, and every
// reply of Redis assumes the writes before it are done), so one connection has one write in a commit,
// and concurrent connections share commits.
//
// Authentication (always on when RespOptions::client_token is set): before AUTH <token> (or AUTH
// default <token>, or HELLO 2 AUTH default <token>) only AUTH, HELLO and QUIT are answered; anything
// else gets "NOAUTH Authentication required." and the connection stays open, as in Redis. A wrong
// token gets WRONGPASS (counted). Until authenticated, a request may hold at most 10 arguments of at
// most 16384 bytes (RequestLimits); past that the protocol error closes the connection.
//
// Output: step() adds one reply (or a run of replies decided on receipt) to the output; no single reply
// passes RespOptions::max_collected_reply_bytes (a stored value, up to 16 MiB, is the exception only
// when that limit is set below it). The caller bounds the output as a whole: it stops calling step()
// while output_bytes() is over its limit, until the socket took some (backpressure, as for ClientSession).
//
// Closing: after a protocol error or QUIT the session answers what came before, then that reply, and
// closing() turns true; the rest of the input is ignored.
//
// Threads: receive(), end_of_input(), wants_input(), has_work(), closing(), take_output() and
// output_bytes() may be called on one thread (the loop) while step() runs on another (a worker); at
// most one step() at a time (the caller's rule). step() calls the store without holding the lock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/net/pending_writes.h"
#include "src/resp/command.h"
#include "src/resp/executor.h"
#include "src/resp/request_reader.h"

namespace cairn::resp {

// A write command with more arguments than this (the name included; MSET or DEL of many keys) is
// planned on a worker, not the loop.
inline constexpr std::size_t kMaxQuickWriteArguments = 33;

class RespSession {
 public:
  // `services` and `shared` are borrowed and must outlive the session. `wake` (optional) is called, from
  // the store's writer thread, when a write's commit finished and a step may answer it.
  RespSession(Services services, RespOptions options, RespShared& shared, std::function<void()> wake = {});
  ~RespSession();

  RespSession(const RespSession&) = delete;
  RespSession& operator=(const RespSession&) = delete;

  // Appends received bytes and reads every whole command they complete, while fewer than
  // max_in_flight_commands wait; the rest stays buffered and is read by step() as answers make room.
  void receive(std::string_view bytes);
  // The client sent its last byte: what was received is still answered, then closing() turns true.
  void end_of_input();
  // False while max_in_flight_commands wait, or after the input ended: stop reading the socket.
  bool wants_input() const;
  // True when step() has something to do.
  bool has_work() const;
  // True once the connection must be closed after the output is written.
  bool closing() const;
  // The reply bytes produced so far, in order; the session forgets them.
  std::string take_output();
  std::size_t output_bytes() const;

  // Answers the next queued command (or EXEC), calling the store. Never concurrently with itself.
  void step();
  // True when the next step() only sends replies decided on receipt and runs one command that never
  // writes and costs O(1) or O(log n) (Redis's "fast" and not "write": GET, EXISTS, SISMEMBER, PING, ...),
  // or plans a write command of at most kMaxQuickWriteArguments arguments and hands it to the store, or
  // answers a finished write: LMDB reads, never an fsync, so the listener may run it on the loop thread
  // without a thread hop. A transaction is never quick (its plan may read without bound).
  bool next_step_is_quick() const;
  // Writes handed to the store and not yet answered (0 or 1). While one is and has not completed,
  // has_work() is false: its completion calls `wake`.
  std::size_t writes_in_flight() const;
  // Drops queued work; later steps do nothing. Not concurrently with step().
  void shutdown();

  std::uint64_t client_id() const { return client_id_; }

 private:
  // An entry of the in-order queue: a reply decided on receipt, a command to run, or a transaction.
  struct Item {
    std::string reply;
    bool close_after = false;
    const CommandSpec* spec = nullptr;
    std::vector<std::string> args;
    std::optional<std::vector<QueuedCommand>> transaction;
    // When the command was read (the item is made then): its latency runs to its reply (step()).
    std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();
  };

  // A command or transaction whose batch is with the store.
  struct Running {
    Item work;
    Attempt attempt;
    unsigned number = 0;  // Of the attempt, from 0.
    bool kind_changed = false;
  };
  // Plans `running.work` again (attempt `running.number`) into running.attempt.
  void plan(Running& running) const;
  // Plans `work`; answers it when that needs no write, else hands its batch to the store.
  void start(Item work);
  // Settles the front write with `outcome`: answers it, or plans it again and resubmits it.
  void settle_front(Running& running, const Result<bool>& outcome);
  // Sends the reply to `work` and records its latency.
  void answer(const Item& work, std::string reply);

  // The rest run under mutex_.
  void read_commands();
  void handle(std::vector<std::string> args);
  void queue_reply(std::string reply, bool close_after = false);
  void queue_in_transaction(const CommandSpec& spec, std::vector<std::string> args);
  void handle_session_command(const CommandSpec& spec, const std::vector<std::string>& args);
  void auth(const std::vector<std::string>& args);
  void hello(const std::vector<std::string>& args);
  void client(const std::vector<std::string>& args);
  void exec();
  // Checks a token (and user name, which must be "default"); authenticates and returns true, or counts
  // the failure.
  bool try_token(std::string_view user, std::string_view token);
  std::string client_info() const;

  void emit(std::string reply);

  Services services_;
  RespOptions options_;
  RespShared& shared_;
  std::function<void()> wake_;
  const std::uint64_t client_id_;

  mutable std::mutex mutex_;
  // Guarded by mutex_.
  RequestReader reader_;
  bool authenticated_ = false;
  bool input_closed_ = false;     // After a protocol error, QUIT or shutdown: read nothing more.
  bool close_when_done_ = false;  // After end_of_input().
  bool closing_ = false;
  bool shut_down_ = false;
  std::deque<Item> queue_;
  net::PendingWrites<Running> writes_;  // At most one: the next command waits for it.
  std::string output_;
  std::string name_;                            // CLIENT SETNAME / HELLO SETNAME.
  std::string library_name_, library_version_;  // CLIENT SETINFO.
  // MULTI in progress: the commands queued, their argument bytes, and whether one was refused.
  bool in_multi_ = false;
  bool multi_failed_ = false;
  std::size_t multi_bytes_ = 0;
  std::vector<QueuedCommand> multi_;
};

}  // namespace cairn::resp
