// bench_http: a fixed-rate HTTP GET load generator for loopback benchmarks.
//
// Sends --rate requests per second in total for --duration seconds, spread over
// --connections keep-alive connections (one thread each). The schedule is open-loop: each
// request has a planned send time, and its latency is measured from that planned time, so a
// slow server shows up as latency instead of silently lowering the rate. The time from the
// actual send is reported separately as service time.
//
// Output: key=value lines on stdout (parsed by bench/run_exporter_bench.sh).
// Exit status: 0 when every request answered 200, 1 when some failed, 2 on bad usage.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <httplib.h>

namespace iwx::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string url = "http://127.0.0.1:9980/metrics";
  double rate = 200;       // requests per second, all connections together
  double duration_s = 60;  // length of the run
  int connections = 4;     // keep-alive connections, one thread each
  double timeout_s = 5;    // connect and read timeout per request
};

struct Sample {
  double latency_ms = 0;  // from the planned send time to the end of the response
  double service_ms = 0;  // from the actual send time to the end of the response
};

struct ThreadResult {
  std::vector<Sample> samples;
  uint64_t errors = 0;
  uint64_t bytes = 0;
  std::string first_error;
};

[[noreturn]] void Usage(const std::string& problem) {
  if (!problem.empty()) {
    std::cerr << "bench_http: " << problem << "\n";
  }
  std::cerr << "usage: bench_http [--url=http://127.0.0.1:9980/metrics] [--rate=200]\n"
               "                  [--duration=60] [--connections=4] [--timeout=5]\n"
               "  --rate         requests per second in total\n"
               "  --duration     seconds to run\n"
               "  --connections  keep-alive connections (one thread each)\n"
               "  --timeout      seconds to wait for connect and for the response\n";
  std::exit(problem.empty() ? 0 : 2);
}

double ParsePositive(std::string_view flag, const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(value > 0)) {
    Usage("--" + std::string(flag) + ": expected a positive number, got '" + text + "'");
  }
  return value;
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      Usage("");
    }
    auto eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      Usage("unexpected argument '" + arg + "' (flags are --name=value)");
    }
    std::string name = arg.substr(2, eq - 2);
    std::string value = arg.substr(eq + 1);
    if (name == "url") {
      options.url = value;
    } else if (name == "rate") {
      options.rate = ParsePositive(name, value);
    } else if (name == "duration") {
      options.duration_s = ParsePositive(name, value);
    } else if (name == "connections") {
      options.connections = static_cast<int>(ParsePositive(name, value));
    } else if (name == "timeout") {
      options.timeout_s = ParsePositive(name, value);
    } else {
      Usage("unknown flag --" + name);
    }
  }
  if (options.connections < 1) {
    Usage("--connections: expected at least 1");
  }
  return options;
}

// Splits "http://host:port/path?query" into "http://host:port" and "/path?query".
std::pair<std::string, std::string> SplitUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    Usage("--url: expected http://HOST:PORT/PATH, got '" + url + "'");
  }
  auto slash = url.find('/', scheme.size());
  if (slash == std::string::npos) {
    return {url, "/"};
  }
  return {url.substr(0, slash), url.substr(slash)};
}

double Millis(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// Connection `index` of `count` sends requests number index, index + count, ... of the
// global schedule, so that the connections together keep the total rate evenly spaced.
ThreadResult RunConnection(const Options& options, int index, Clock::time_point start) {
  auto [origin, path] = SplitUrl(options.url);
  httplib::Client client(origin);
  client.set_keep_alive(true);
  // Send each request at once instead of letting Nagle's algorithm hold it back.
  client.set_tcp_nodelay(true);
  auto timeout = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::duration<double>(options.timeout_s));
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);

  const auto total = static_cast<uint64_t>(options.rate * options.duration_s);
  const std::chrono::duration<double> spacing(1.0 / options.rate);
  ThreadResult result;
  result.samples.reserve(total / static_cast<uint64_t>(options.connections) + 1);
  for (uint64_t n = static_cast<uint64_t>(index); n < total;
       n += static_cast<uint64_t>(options.connections)) {
    auto planned = start + std::chrono::duration_cast<Clock::duration>(spacing * n);
    std::this_thread::sleep_until(planned);
    auto sent = Clock::now();
    auto response = client.Get(path);
    auto done = Clock::now();
    if (!response || response->status != 200) {
      ++result.errors;
      if (result.first_error.empty()) {
        result.first_error = response ? "HTTP " + std::to_string(response->status)
                                      : httplib::to_string(response.error());
      }
      continue;
    }
    result.bytes += response->body.size();
    result.samples.push_back({Millis(done - planned), Millis(done - sent)});
  }
  return result;
}

// Nearest-rank percentile of sorted values.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  auto rank = static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size()));
  return sorted[std::min(rank, sorted.size() - 1)];
}

void PrintDistribution(const std::string& prefix, std::vector<double> values) {
  std::sort(values.begin(), values.end());
  std::printf("%s_p50_ms=%.3f\n", prefix.c_str(), Percentile(values, 50));
  std::printf("%s_p90_ms=%.3f\n", prefix.c_str(), Percentile(values, 90));
  std::printf("%s_p99_ms=%.3f\n", prefix.c_str(), Percentile(values, 99));
  std::printf("%s_max_ms=%.3f\n", prefix.c_str(), values.empty() ? 0.0 : values.back());
}

int Main(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  std::vector<ThreadResult> results(static_cast<size_t>(options.connections));
  std::vector<std::thread> threads;
  // A short delay lets every thread reach its first planned time together.
  const auto start = Clock::now() + std::chrono::milliseconds(100);
  for (int i = 0; i < options.connections; ++i) {
    threads.emplace_back([&options, &results, i, start] {
      results[static_cast<size_t>(i)] = RunConnection(options, i, start);
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> latency;
  std::vector<double> service;
  uint64_t errors = 0;
  uint64_t bytes = 0;
  std::string first_error;
  for (const auto& result : results) {
    for (const auto& sample : result.samples) {
      latency.push_back(sample.latency_ms);
      service.push_back(sample.service_ms);
    }
    errors += result.errors;
    bytes += result.bytes;
    if (first_error.empty()) {
      first_error = result.first_error;
    }
  }
  const auto ok = static_cast<uint64_t>(latency.size());
  std::printf("url=%s\n", options.url.c_str());
  std::printf("target_rate=%.1f\n", options.rate);
  std::printf("connections=%d\n", options.connections);
  std::printf("elapsed_s=%.3f\n", elapsed_s);
  std::printf("requests=%llu\n", static_cast<unsigned long long>(ok + errors));
  std::printf("ok=%llu\n", static_cast<unsigned long long>(ok));
  std::printf("errors=%llu\n", static_cast<unsigned long long>(errors));
  std::printf("achieved_rate=%.1f\n", static_cast<double>(ok) / elapsed_s);
  std::printf("body_bytes_avg=%.0f\n",
              ok ? static_cast<double>(bytes) / static_cast<double>(ok) : 0.0);
  PrintDistribution("latency", latency);
  PrintDistribution("service", service);
  if (!first_error.empty()) {
    std::printf("first_error=%s\n", first_error.c_str());
  }
  return errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace iwx::bench

int main(int argc, char** argv) {
  return iwx::bench::Main(argc, argv);
}
