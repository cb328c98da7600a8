#include "src/resp/session.h"

#include <sodium.h>

#include <array>
#include <utility>

#include "src/resp/errors.h"
#include "src/resp/integer.h"
#include "src/resp/reply.h"
#include "src/util/log.h"

namespace cairn::resp {
namespace {

// A BLAKE2b digest of each side, compared with sodium_memcmp: the time taken depends neither on the
// token nor on how much of it a client guessed right (nor on the length it sent). The same check as
// the native client port's (src/server/client_session.cpp).
bool token_matches(std::string_view presented, std::string_view expected) {
  std::array<unsigned char, 32> a{}, b{};
  crypto_generichash(a.data(), a.size(), reinterpret_cast<const unsigned char*>(presented.data()),
                     presented.size(), nullptr, 0);
  crypto_generichash(b.data(), b.size(), reinterpret_cast<const unsigned char*>(expected.data()),
                     expected.size(), nullptr, 0);
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Redis's rule for client names: printable ASCII with no space.
bool valid_client_name(std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

std::size_t request_bytes(const std::vector<std::string>& args) {
  std::size_t bytes = 0;
  for (const std::string& arg : args) bytes += arg.size() + kArgumentOverheadBytes;
  return bytes;
}

}  // namespace

RespSession::RespSession(Services services, RespOptions options, RespShared& shared, std::function<void()> wake)
    : services_(std::move(services)),
      options_(std::move(options)),
      shared_(shared),
      wake_(std::move(wake)),
      client_id_(shared.new_client_id()),
      reader_(options_.limits),
      authenticated_(options_.client_token.empty()) {
  // Idempotent and thread-safe; it fails only without an OS randomness source, which hashing does not need.
  if (!options_.client_token.empty() && sodium_init() < 0)
    log::warn("resp", "libsodium found no randomness source");
  reader_.set_authenticated(authenticated_);
  shared_.counters.connection_opened();
}

RespSession::~RespSession() {
  shutdown();
  shared_.counters.connection_closed();
}

// ---- Input: read commands, answer what needs no store, queue the rest ----

void RespSession::receive(std::string_view bytes) {
  std::lock_guard lock(mutex_);
  if (input_closed_ || shut_down_) return;
  reader_.append(bytes);
  read_commands();
}

void RespSession::read_commands() {
  std::vector<std::string> args;
  while (!input_closed_ && !close_when_done_ && queue_.size() < options_.max_in_flight_commands) {
    const auto outcome = reader_.next(args);
    if (outcome == RequestReader::Outcome::kNeedMore) return;
    if (outcome == RequestReader::Outcome::kError) {
      shared_.counters.protocol_error();
      queue_reply(reply::error("ERR " + reader_.error()), /*close_after=*/true);
      input_closed_ = true;
      return;
    }
    handle(std::exchange(args, {}));
  }
}

void RespSession::queue_reply(std::string reply, bool close_after) {
  Item item;
  item.reply = std::move(reply);
  item.close_after = close_after;
  queue_.push_back(std::move(item));
}

void RespSession::handle(std::vector<std::string> args) {
  const CommandSpec* spec = find_command(args[0]);
  if (spec == nullptr || !arity_ok(*spec, args.size())) {
    queue_reply(
        reply::error(spec == nullptr ? errors::unknown_command(args) : errors::wrong_arity(spec->name)));
    if (in_multi_) multi_failed_ = true;
    return;
  }
  if (!authenticated_ && !(spec->flags & kNoAuth)) return queue_reply(reply::error(errors::kNoAuth));
  shared_.counters.command(spec->name);
  if (in_multi_ && !(spec->flags & kNoMulti)) return queue_in_transaction(*spec, std::move(args));
  if (spec->flags & kSession) return handle_session_command(*spec, args);
  Item item;
  item.spec = spec;
  item.args = std::move(args);
  queue_.push_back(std::move(item));
}

void RespSession::queue_in_transaction(const CommandSpec& spec, std::vector<std::string> args) {
  const std::size_t bytes = request_bytes(args);
  if (multi_.size() >= options_.max_transaction_commands ||
      multi_bytes_ + bytes > options_.max_transaction_bytes) {
    multi_failed_ = true;
    return queue_reply(reply::error("ERR a transaction may hold at most " +
                                    std::to_string(options_.max_transaction_commands) + " commands and " +
                                    std::to_string(options_.max_transaction_bytes) + " bytes of arguments"));
  }
  multi_bytes_ += bytes;
  multi_.push_back(QueuedCommand{&spec, std::move(args)});
  queue_reply(reply::simple("QUEUED"));
}

void RespSession::handle_session_command(const CommandSpec& spec, const std::vector<std::string>& args) {
  const std::string_view name = spec.name;
  if (name == "quit") {
    queue_reply(std::string(reply::kOk), /*close_after=*/true);
    input_closed_ = true;
  } else if (name == "multi") {
    if (in_multi_) return queue_reply(reply::error(errors::kNestedMulti));
    in_multi_ = true;
    multi_failed_ = false;
    multi_.clear();
    multi_bytes_ = 0;
    queue_reply(std::string(reply::kOk));
  } else if (name == "exec") {
    exec();
  } else if (name == "discard") {
    if (!in_multi_) return queue_reply(reply::error(errors::kDiscardWithoutMulti));
    in_multi_ = false;
    multi_.clear();
    queue_reply(std::string(reply::kOk));
  } else if (name == "watch") {
    queue_reply(reply::error(in_multi_ ? errors::kWatchInMulti : errors::kWatch));
  } else if (in_multi_) {
    multi_failed_ = true;
    queue_reply(reply::error("ERR Command not allowed inside a transaction"));
  } else if (name == "auth") {
    auth(args);
  } else if (name == "hello") {
    hello(args);
  } else {
    client(args);
  }
}

void RespSession::exec() {
  if (!in_multi_) return queue_reply(reply::error(errors::kExecWithoutMulti));
  in_multi_ = false;
  std::vector<QueuedCommand> commands = std::exchange(multi_, {});
  if (multi_failed_) return queue_reply(reply::error(errors::kExecAbort));
  Item item;
  item.transaction = std::move(commands);
  queue_.push_back(std::move(item));
}

// ---- Connection commands ----

bool RespSession::try_token(std::string_view user, std::string_view token) {
  const bool token_ok = options_.client_token.empty() || token_matches(token, options_.client_token);
  if (token_ok && user == "default") {
    authenticated_ = true;
    reader_.set_authenticated(true);
    return true;
  }
  shared_.counters.authentication_failure();
  return false;
}

void RespSession::auth(const std::vector<std::string>& args) {
  if (args.size() > 3) return queue_reply(reply::error(errors::kSyntax));
  if (options_.client_token.empty()) {
    return queue_reply(reply::error(
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your "
        "configuration is correct?"));
  }
  const std::string_view user = args.size() == 3 ? std::string_view(args[1]) : "default";
  queue_reply(try_token(user, args.back()) ? std::string(reply::kOk) : reply::error(errors::kWrongPass));
}

void RespSession::hello(const std::vector<std::string>& args) {
  if (args.size() >= 2) {
    const auto version = parse_int64(args[1]);
    if (!version) return queue_reply(reply::error(errors::kProtocolNotInteger));
    if (*version != 2) return queue_reply(reply::error(errors::kNoProto));  // RESP3 is not spoken here.
  }
  std::optional<std::string> user, token, name;
  for (std::size_t i = 2; i < args.size(); ++i) {
    const std::string option = lower(args[i]);
    const std::size_t more = args.size() - i - 1;
    if (option == "auth" && more >= 2) {
      user = args[i + 1];
      token = args[i + 2];
      i += 2;
    } else if (option == "setname" && more >= 1) {
      name = args[++i];
    } else {
      return queue_reply(reply::error("ERR Syntax error in HELLO option '" + args[i] + "'"));
    }
  }
  if (!authenticated_ && !token) return queue_reply(reply::error(errors::kHelloNoAuth));
  if (token && !try_token(*user, *token)) return queue_reply(reply::error(errors::kWrongPass));
  if (name) {
    if (!valid_client_name(*name)) return queue_reply(reply::error(errors::kBadClientName));
    name_ = *name;
  }
  std::string out;
  reply::array_header(out, 14);
  for (const char* field : {"server", "redis", "version", "7.0.0"}) reply::bulk(out, field);
  reply::bulk(out, "proto");
  reply::integer(out, 2);
  reply::bulk(out, "id");
  reply::integer(out, static_cast<std::int64_t>(client_id_));
  for (const char* field : {"mode", "standalone", "role", "master", "modules"}) reply::bulk(out, field);
  reply::array_header(out, 0);
  queue_reply(std::move(out));
}

void RespSession::client(const std::vector<std::string>& args) {
  const std::string sub = lower(args[1]);
  auto arity = [&](std::size_t wanted) {
    if (args.size() == wanted) return true;
    queue_reply(reply::error(errors::wrong_arity("client|" + sub)));
    return false;
  };
  if (sub == "id") {
    if (arity(2)) queue_reply(reply::integer(static_cast<std::int64_t>(client_id_)));
  } else if (sub == "getname") {
    if (arity(2)) queue_reply(name_.empty() ? reply::null_bulk() : reply::bulk(name_));
  } else if (sub == "setname") {
    if (!arity(3)) return;
    if (!valid_client_name(args[2])) return queue_reply(reply::error(errors::kBadClientName));
    name_ = args[2];
    queue_reply(std::string(reply::kOk));
  } else if (sub == "info") {
    if (arity(2)) queue_reply(reply::bulk(client_info()));
  } else if (sub == "setinfo") {
    if (!arity(4)) return;
    const std::string attribute = lower(args[2]);
    if (attribute != "lib-name" && attribute != "lib-ver") {
      return queue_reply(reply::error("ERR Unrecognized option '" + args[2] + "'"));
    }
    if (!valid_client_name(args[3])) {
      return queue_reply(
          reply::error("ERR " + args[2] + " cannot contain spaces, newlines or special characters."));
    }
    (attribute == "lib-name" ? library_name_ : library_version_) = args[3];
    queue_reply(std::string(reply::kOk));
  } else {
    queue_reply(reply::error(errors::unknown_subcommand(args[1], "CLIENT")));
  }
}

std::string RespSession::client_info() const {
  return "id=" + std::to_string(client_id_) + " name=" + name_ +
         " db=0 multi=" + (in_multi_ ? std::to_string(multi_.size()) : std::string("-1")) +
         " resp=2 lib-name=" + library_name_ + " lib-ver=" + library_version_ + "\n";
}

// ---- Output and work ----

void RespSession::end_of_input() {
  std::lock_guard lock(mutex_);
  close_when_done_ = true;  // A partial command at the end can never complete.
}

bool RespSession::wants_input() const {
  std::lock_guard lock(mutex_);
  return !input_closed_ && !close_when_done_ && !shut_down_ &&
         queue_.size() < options_.max_in_flight_commands;
}

bool RespSession::has_work() const {
  std::lock_guard lock(mutex_);
  if (shut_down_) return false;
  if (!writes_.empty()) return writes_.front_done();  // What comes after a write waits for its answer.
  return !queue_.empty();
}

bool RespSession::closing() const {
  std::lock_guard lock(mutex_);
  return closing_ || (close_when_done_ && queue_.empty() && writes_.empty());
}

std::size_t RespSession::writes_in_flight() const {
  std::lock_guard lock(mutex_);
  return writes_.size();
}

std::string RespSession::take_output() {
  std::lock_guard lock(mutex_);
  return std::exchange(output_, {});
}

std::size_t RespSession::output_bytes() const {
  std::lock_guard lock(mutex_);
  return output_.size();
}

void RespSession::emit(std::string reply) {
  if (!reply.empty() && reply[0] == '-') shared_.counters.error_reply(std::string_view(reply).substr(1));
  std::lock_guard lock(mutex_);
  output_ += reply;
}

void RespSession::step() {
  Running* finished = nullptr;
  Result<bool> outcome = false;
  Item work;
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) return;
    if (writes_.front_done()) {
      // Stays at the front (and in place: only step() changes writes_) until it is answered.
      finished = &writes_.front_payload();
      outcome = std::move(writes_.front_outcome());
    } else if (!writes_.empty()) {
      return;  // Its completion wakes a later step.
    }
    // Replies decided on receipt go out up to the next command to run.
    while (!finished && !queue_.empty() && queue_.front().spec == nullptr && !queue_.front().transaction) {
      Item ready = std::move(queue_.front());
      queue_.pop_front();
      if (!ready.reply.empty() && ready.reply[0] == '-') {
        shared_.counters.error_reply(std::string_view(ready.reply).substr(1));
      }
      output_ += ready.reply;
      if (ready.close_after) {
        closing_ = true;
        queue_.clear();
        return;
      }
    }
    if (!finished) {
      if (queue_.empty()) {
        read_commands();  // Room was made: read what the in-flight limit held back.
        return;
      }
      work = std::move(queue_.front());
      queue_.pop_front();
    }
  }
  if (finished) return settle_front(*finished, outcome);
  start(std::move(work));
}

void RespSession::plan(Running& running) const {
  const ExecutionEnv env{services_, shared_, options_, client_id_};
  running.attempt = running.work.transaction
                        ? plan_transaction(env, *running.work.transaction, running.kind_changed)
                        : plan_command(env, *running.work.spec, running.work.args, running.kind_changed);
}

void RespSession::start(Item work) {
  Running running;
  running.work = std::move(work);
  plan(running);
  if (running.attempt.reply) return answer(running.work, std::move(*running.attempt.reply));
  auto expectations = std::move(running.attempt.expectations);
  auto writes = std::move(running.attempt.writes);
  net::PendingWrites<Running>::Completion done;
  {
    std::lock_guard lock(mutex_);
    done = writes_.push(std::move(running), wake_);
  }
  // Without the lock: a batch refused before queueing completes right here.
  services_.batch.apply_async(std::move(expectations), std::move(writes), std::move(done));
}

void RespSession::settle_front(Running& running, const Result<bool>& outcome) {
  const ExecutionEnv env{services_, shared_, options_, client_id_};
  auto reply = settle(env, running.attempt, outcome, running.number, running.kind_changed);
  if (!reply) {
    ++running.number;
    plan(running);
    reply = std::move(running.attempt.reply);
  }
  if (reply) {
    answer(running.work, std::move(*reply));
    std::lock_guard lock(mutex_);
    writes_.pop_front();
    return;
  }
  auto expectations = std::move(running.attempt.expectations);
  auto writes = std::move(running.attempt.writes);
  net::PendingWrites<Running>::Completion done;
  {
    std::lock_guard lock(mutex_);
    done = writes_.resubmit_front(wake_);  // Moves `running` into a fresh entry.
  }
  services_.batch.apply_async(std::move(expectations), std::move(writes), std::move(done));
}

void RespSession::answer(const Item& work, std::string reply) {
  emit(std::move(reply));
  shared_.counters.latency(work.transaction ? std::string_view("exec") : work.spec->name,
                           std::chrono::steady_clock::now() - work.received);
  std::lock_guard lock(mutex_);
  read_commands();
}

bool RespSession::next_step_is_quick() const {
  std::lock_guard lock(mutex_);
  if (shut_down_) return false;
  // Answering a finished write reads at most what it wrote (INCR's reply); planning a command again
  // is as quick as planning it was.
  if (writes_.front_done()) return !writes_.front_payload().work.transaction;
  if (!writes_.empty()) return false;
  for (const Item& item : queue_) {
    if (item.transaction) return false;
    if (item.spec == nullptr) {
      if (item.close_after) return true;  // step() stops at this reply.
      continue;                           // Decided on receipt: step() sends it on the way.
    }
    if (item.spec->flags & kWrite) return item.args.size() <= kMaxQuickWriteArguments;
    return (item.spec->flags & kFast) != 0;
  }
  return !queue_.empty();
}

void RespSession::shutdown() {
  std::lock_guard lock(mutex_);
  shut_down_ = true;
  input_closed_ = true;
  queue_.clear();
  writes_.clear();  // Their completions hold their own entries; nobody answers them now.
  multi_.clear();
}

}  // namespace cairn::resp
