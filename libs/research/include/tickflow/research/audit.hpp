// Look-ahead and determinism audit of a strategy (docs/research.md): the
// strategy is run over K prefixes of the data and over the whole data twice.
// Without look-ahead, every decision (order, signal) made before a prefix ends
// is the same in the longer run; a deterministic strategy gives byte-identical
// outputs on identical inputs. The audit reports the first offending decision,
// its time and what differed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tickflow/backtest/backtest.hpp"

namespace tickflow::research {

struct Decision {
  UnixNanos time;
  std::string what;  // "order buy market 0.5 of symbol 1", "signal 'monthly breakout' at 10749.4 on symbol 1"
  friend bool operator==(const Decision&, const Decision&) = default;
};
// The run's orders (as placed) and signals, in time order (orders before signals at the same time).
std::vector<Decision> Decisions(const backtest::ModelRun& run);

struct AuditFinding {
  std::size_t prefix = 0;  // 1-based; 0: the determinism rerun
  UnixNanos prefix_end;    // the prefix held trades before this time
  std::size_t decision = 0;  // 0-based index of the first decision that differs
  std::optional<Decision> shorter, longer;  // what each run decided there (missing: none)
  std::string Describe() const;
};

struct AuditReport {
  std::size_t prefixes = 0;
  std::size_t decisions_checked = 0;
  std::optional<AuditFinding> look_ahead;   // the first prefix whose decisions differ
  std::optional<AuditFinding> nondeterminism;
  bool deterministic_outputs = true;        // fills, orders and metrics byte-identical on the rerun
  bool ok() const { return !look_ahead && !nondeterminism && deterministic_outputs; }
};

// full and rerun: the whole data, twice; prefixes[k]: the trades before ends[k].
AuditReport Audit(const backtest::ModelRun& full, const backtest::ModelRun& rerun,
                  const std::vector<backtest::ModelRun>& prefixes, const std::vector<UnixNanos>& ends);

}  // namespace tickflow::research
