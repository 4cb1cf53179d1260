#include "derived/resolver.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <optional>
#include <set>

namespace iwx::derived {

namespace {

// Where the value of one expression reference comes from during evaluation.
struct Source {
  bool from_series = false;
  // Index into the input values, or into the outputs when from_series.
  size_t index = 0;
};

}  // namespace

struct DerivedSet::Compiled {
  Expression expression;
  std::vector<Source> sources;
  // Index into names() and the outputs.
  size_t output = 0;
};

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kListedChannels = 8;
constexpr size_t kSuggestions = 3;

// What one reference of a series was bound to.
struct Binding {
  std::optional<ChannelKey> channel;
  std::optional<size_t> series;
};

// Working state of one configured series during Resolve.
struct SeriesState {
  std::optional<Expression> expression;
  std::vector<Binding> bindings;
  std::optional<Problem> problem;
};

std::string Quote(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

// "a", "a and b", "a, b and c".
std::string JoinAnd(const std::vector<std::string>& items) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      text += i + 1 == items.size() ? " and " : ", ";
    }
    text += items[i];
  }
  return text;
}

std::string JoinOr(const std::vector<std::string>& items) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      text += i + 1 == items.size() ? " or " : ", ";
    }
    text += Quote(items[i]);
  }
  return text;
}

// Edit distance ignoring case, so that "mains_1" and "Mains1" both find "Mains_1".
size_t Distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      const size_t next = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = row[j];
      row[j] = next;
    }
  }
  return row[b.size()];
}

bool StartsWithIgnoringCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && Distance(text.substr(0, prefix.size()), prefix) == 0;
}

// The closest candidates: a few typos away, or extending the name ("Mains" -> "Mains_1").
std::vector<std::string> SimilarNames(std::string_view name,
                                      const std::vector<std::string>& candidates) {
  std::vector<std::pair<size_t, std::string>> scored;
  const size_t limit = std::max<size_t>(1, name.size() / 3);
  for (const std::string& candidate : candidates) {
    const size_t distance = Distance(name, candidate);
    if (distance <= limit || StartsWithIgnoringCase(candidate, name)) {
      scored.emplace_back(distance, candidate);
    }
  }
  std::sort(scored.begin(), scored.end());
  scored.erase(std::unique(scored.begin(), scored.end()), scored.end());

  std::vector<std::string> names;
  for (size_t i = 0; i < scored.size() && i < kSuggestions; ++i) {
    if (scored[i].first == scored.front().first) {
      names.push_back(scored[i].second);
    }
  }
  return names;
}

std::string DidYouMean(const std::vector<std::string>& similar) {
  return similar.empty() ? "" : "; did you mean " + JoinOr(similar) + "?";
}

// Lists a device's channels, shortened: a device can report dozens.
std::string ListChannels(const std::vector<std::string>& channels) {
  if (channels.empty()) {
    return "it reports no channels";
  }
  std::string text = "it reports ";
  for (size_t i = 0; i < channels.size() && i < kListedChannels; ++i) {
    text += (i > 0 ? ", " : "") + channels[i];
  }
  if (channels.size() > kListedChannels) {
    text += " and " + std::to_string(channels.size() - kListedChannels) + " more";
  }
  return text;
}

bool Contains(const std::vector<std::string>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

size_t InputIndex(const std::vector<ChannelKey>& inputs, const ChannelKey& key) {
  return static_cast<size_t>(std::lower_bound(inputs.begin(), inputs.end(), key) - inputs.begin());
}

}  // namespace

// Resolve in three passes: parse and bind every reference, order the series after their
// dependencies (naming cycles on the way), then mark series with unbound dependencies.
// Finish() turns what bound into the evaluation program.
class DerivedSet::Binder {
 public:
  Binder(const std::vector<config::DerivedSeries>& series,
         std::vector<std::string> configured_devices, const Inventory& inventory)
      : series_(series), configured_(std::move(configured_devices)), inventory_(inventory) {
    for (const auto& device : configured_) {
      if (!inventory_.contains(device)) {
        undiscovered_.push_back(device);
      }
    }
    states_.resize(series_.size());
  }

  void Run() {
    for (size_t i = 0; i < series_.size(); ++i) {
      ParseAndBind(i);
    }
    for (size_t i = 0; i < series_.size(); ++i) {
      Visit(i);
    }
    for (size_t i : order_) {
      PropagateUnbound(i);
    }
  }

  DerivedSet Finish() const {
    DerivedSet set;
    std::vector<std::optional<size_t>> bound_index(series_.size());
    for (size_t i = 0; i < series_.size(); ++i) {
      if (states_[i].problem) {
        set.problems_.push_back(*states_[i].problem);
      } else {
        bound_index[i] = set.names_.size();
        set.names_.push_back(series_[i].name);
      }
    }

    std::set<ChannelKey> keys;
    for (size_t i = 0; i < series_.size(); ++i) {
      for (const Binding& binding : states_[i].bindings) {
        if (bound_index[i] && binding.channel) {
          keys.insert(*binding.channel);
        }
      }
    }
    set.inputs_.assign(keys.begin(), keys.end());

    // In dependency order, so that a series' dependencies already know their inputs and
    // are evaluated before it.
    std::vector<std::set<size_t>> needs(series_.size());
    auto program = std::make_shared<std::vector<Compiled>>();
    for (size_t i : order_) {
      if (!bound_index[i]) {
        continue;
      }
      Compiled compiled{*states_[i].expression, {}, *bound_index[i]};
      for (const Binding& binding : states_[i].bindings) {
        if (binding.channel) {
          const size_t input = InputIndex(set.inputs_, *binding.channel);
          needs[i].insert(input);
          compiled.sources.push_back(Source{false, input});
        } else {
          needs[i].insert(needs[*binding.series].begin(), needs[*binding.series].end());
          compiled.sources.push_back(Source{true, *bound_index[*binding.series]});
        }
      }
      program->push_back(std::move(compiled));
    }

    for (size_t i = 0; i < series_.size(); ++i) {
      if (bound_index[i]) {
        set.series_inputs_.emplace_back(needs[i].begin(), needs[i].end());
      }
    }
    set.program_ = std::move(program);
    return set;
  }

 private:
  enum class Mark { kNew, kVisiting, kDone };

  void ParseAndBind(size_t i) {
    const config::DerivedSeries& series = series_[i];
    try {
      states_[i].expression = Expression::Parse(series.expression);
    } catch (const ExpressionError& error) {
      SetProblem(i, error.column(),
                 std::string(error.what()) + " at column " + std::to_string(error.column()) +
                     " of " + Quote(series.expression));
      return;
    }

    for (const Reference& reference : states_[i].expression->references()) {
      states_[i].bindings.push_back(Bind(i, reference));
    }
  }

  Binding Bind(size_t i, const Reference& reference) {
    if (reference.device.empty()) {
      return BindBare(i, reference);
    }
    return BindQualified(i, reference);
  }

  Binding BindBare(size_t i, const Reference& reference) {
    if (const auto series = FindSeries(reference.name)) {
      return Binding{std::nullopt, series};
    }

    std::vector<std::string> reporting;
    for (const auto& [device, channels] : inventory_) {
      if (Contains(channels, reference.name)) {
        reporting.push_back(device);
      }
    }
    if (reporting.size() == 1) {
      return Binding{ChannelKey{reporting.front(), reference.name}, std::nullopt};
    }

    if (reporting.size() > 1) {
      SetProblem(i, reference.column,
                 "channel " + Quote(reference.name) + " is ambiguous: reported by " +
                     JoinAnd(reporting) + "; write DEVICE." + reference.name);
    } else if (!undiscovered_.empty()) {
      SetProblem(i, reference.column,
                 "channel " + Quote(reference.name) +
                     " is not reported by any device yet; waiting for " + JoinAnd(undiscovered_) +
                     " to report their channels",
                 true);
    } else {
      SetProblem(i, reference.column,
                 "unknown channel " + Quote(reference.name) + ": no device reports it" +
                     DidYouMean(SimilarNames(reference.name, AllChannels())));
    }
    return {};
  }

  Binding BindQualified(size_t i, const Reference& reference) {
    const std::string text = Quote(reference.device + "." + reference.name);
    const auto discovered = inventory_.find(reference.device);
    if (discovered != inventory_.end()) {
      const std::vector<std::string>& channels = discovered->second;
      if (Contains(channels, reference.name)) {
        return Binding{ChannelKey{reference.device, reference.name}, std::nullopt};
      }
      const auto similar = SimilarNames(reference.name, channels);
      SetProblem(i, reference.column,
                 "unknown channel " + Quote(reference.name) + " on " + reference.device + "; " +
                     (similar.empty() ? ListChannels(channels) : DidYouMean(similar).substr(2)));
      return {};
    }

    if (Contains(configured_, reference.device)) {
      SetProblem(i, reference.column,
                 text + ": device " + reference.device + " has not reported its channels yet",
                 true);
    } else if (FindSeries(reference.device)) {
      SetProblem(i, reference.column,
                 text + ": " + reference.device +
                     " is a derived series, not a device, and has no channels; write " +
                     reference.device);
    } else {
      SetProblem(i, reference.column,
                 text + ": unknown device " + Quote(reference.device) +
                     "; configured devices: " + JoinAnd(configured_));
    }
    return {};
  }

  // Depth-first search that orders series after their dependencies and names cycles.
  void Visit(size_t i) {
    if (marks_.empty()) {
      marks_.assign(series_.size(), Mark::kNew);
    }
    if (marks_[i] != Mark::kNew) {
      return;
    }

    marks_[i] = Mark::kVisiting;
    path_.push_back(i);
    for (const Binding& binding : states_[i].bindings) {
      if (!binding.series) {
        continue;
      }
      if (marks_[*binding.series] == Mark::kVisiting) {
        ReportCycle(*binding.series);
      } else {
        Visit(*binding.series);
      }
    }
    path_.pop_back();
    marks_[i] = Mark::kDone;
    order_.push_back(i);
  }

  // path_ ends in a series that refers back to `start`: every series on the loop gets a
  // problem naming the loop from itself.
  void ReportCycle(size_t start) {
    const auto begin = std::find(path_.begin(), path_.end(), start);
    const std::vector<size_t> loop(begin, path_.end());
    for (size_t k = 0; k < loop.size(); ++k) {
      std::string names;
      for (size_t step = 0; step <= loop.size(); ++step) {
        names += (step > 0 ? " -> " : "") + series_[loop[(k + step) % loop.size()]].name;
      }
      const size_t next = loop[(k + 1) % loop.size()];
      SetProblem(loop[k], ColumnOfSeriesReference(loop[k], next),
                 "cycle between derived series: " + names);
    }
  }

  void PropagateUnbound(size_t i) {
    if (states_[i].problem) {
      return;
    }
    const auto& references = states_[i].expression->references();
    for (size_t r = 0; r < references.size(); ++r) {
      const auto& dependency = states_[i].bindings[r].series;
      if (!dependency || !states_[*dependency].problem) {
        continue;
      }
      const std::string& name = series_[*dependency].name;
      SetProblem(i, references[r].column,
                 "depends on derived series " + Quote(name) + ", which cannot be evaluated" +
                     (states_[*dependency].problem->pending ? " yet" : "") + " (see derived." +
                     name + ")",
                 states_[*dependency].problem->pending);
      states_[i].problem->depends_on = name;
      return;
    }
  }

  int ColumnOfSeriesReference(size_t from, size_t to) const {
    const auto& references = states_[from].expression->references();
    for (size_t r = 0; r < references.size(); ++r) {
      if (states_[from].bindings[r].series == to) {
        return references[r].column;
      }
    }
    return 0;
  }

  // Keeps the first error of a series; a pending problem only until an error turns up,
  // because errors need the user's attention while pending ones may go away by themselves.
  void SetProblem(size_t i, int column, const std::string& reason, bool pending = false) {
    std::optional<Problem>& current = states_[i].problem;
    if (current && (pending || !current->pending)) {
      return;
    }

    const config::DerivedSeries& series = series_[i];
    Problem problem;
    problem.series = series.name;
    problem.location = series.At(column);
    problem.message = config::FormatProblem(problem.location, "derived." + series.name, reason);
    problem.pending = pending;
    problem.reason = reason;
    current = std::move(problem);
  }

  std::optional<size_t> FindSeries(std::string_view name) const {
    for (size_t i = 0; i < series_.size(); ++i) {
      if (series_[i].name == name) {
        return i;
      }
    }
    return std::nullopt;
  }

  std::vector<std::string> AllChannels() const {
    std::vector<std::string> channels;
    for (const auto& [device, names] : inventory_) {
      channels.insert(channels.end(), names.begin(), names.end());
    }
    return channels;
  }

  const std::vector<config::DerivedSeries>& series_;
  const std::vector<std::string> configured_;
  const Inventory& inventory_;
  std::vector<std::string> undiscovered_;
  std::vector<SeriesState> states_;
  std::vector<Mark> marks_;
  std::vector<size_t> path_;
  std::vector<size_t> order_;
};

namespace {

// Devices named by `dev.chan` references that are not derived series: the configuration
// names them, so they exist even when the inventory does not list them yet.
std::vector<std::string> DevicesOf(const std::vector<config::DerivedSeries>& series,
                                   const Inventory& inventory) {
  std::set<std::string> devices;
  for (const auto& [device, channels] : inventory) {
    devices.insert(device);
  }

  std::set<std::string> series_names;
  for (const auto& one : series) {
    series_names.insert(one.name);
  }
  for (const auto& one : series) {
    try {
      const Expression expression = Expression::Parse(one.expression);
      for (const Reference& reference : expression.references()) {
        if (!reference.device.empty() && !series_names.contains(reference.device)) {
          devices.insert(reference.device);
        }
      }
    } catch (const ExpressionError&) {
      // Reported by the binder, with its position.
    }
  }
  return {devices.begin(), devices.end()};
}

}  // namespace

DerivedSet DerivedSet::Resolve(const std::vector<config::DerivedSeries>& series,
                               const Inventory& inventory) {
  Binder binder(series, DevicesOf(series, inventory), inventory);
  binder.Run();
  return binder.Finish();
}

DerivedSet DerivedSet::Resolve(const config::Config& config, const Inventory& inventory) {
  std::vector<std::string> devices;
  for (const auto& device : config.devices) {
    devices.push_back(device.name);
  }

  Binder binder(config.derived, std::move(devices), inventory);
  binder.Run();
  return binder.Finish();
}

void DerivedSet::Evaluate(std::span<const double> input_values, std::span<double> out) const {
  std::fill(out.begin(), out.end(), kNaN);
  if (program_ == nullptr) {
    return;
  }

  // Expressions rarely have many references: their values go to the machine stack, and
  // only an unusually long expression costs an allocation.
  constexpr size_t kInlineValues = 32;
  std::array<double, kInlineValues> inline_values;
  std::vector<double> spilled;

  for (const Compiled& compiled : *program_) {
    std::span<double> values(inline_values.data(), compiled.sources.size());
    if (compiled.sources.size() > kInlineValues) {
      spilled.resize(compiled.sources.size());
      values = spilled;
    }

    for (size_t r = 0; r < compiled.sources.size(); ++r) {
      const Source& source = compiled.sources[r];
      const std::span<const double> from =
          source.from_series ? std::span<const double>(out) : input_values;
      values[r] = source.index < from.size() ? from[source.index] : kNaN;
    }
    if (compiled.output < out.size()) {
      out[compiled.output] = compiled.expression.Evaluate(values);
    }
  }
}

}  // namespace iwx::derived
