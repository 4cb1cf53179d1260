// Arithmetic expressions over channels and other derived series.
//
// Grammar (usual precedence, left associative):
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/') unary)*
//   unary   := '-' unary | primary
//   primary := NUMBER | REF | FUNC '(' expr (',' expr)* ')' | '(' expr ')'
//   REF     := NAME | NAME '.' NAME          (device.channel, or a bare name)
//   FUNC    := max | min (one or more arguments) | abs (exactly one)
// NAME is a letter or '_' followed by letters, digits or '_'.
#pragma once

#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace iwx::derived {

/// A syntax error; column is 1-based within the expression text.
class ExpressionError : public std::runtime_error {
 public:
  ExpressionError(int column, const std::string& message);
  int column() const noexcept { return column_; }

 private:
  int column_;
};

/// A name used in an expression: "dev.chan" gives {dev, chan}; a bare name {"", name}.
struct Reference {
  std::string device;
  std::string name;
  /// 1-based column of the reference in the expression text.
  int column = 0;

  bool operator==(const Reference& other) const {
    return device == other.device && name == other.name;
  }
};

class Expression {
 public:
  /// \throw ExpressionError with the column of the first problem.
  static Expression Parse(std::string_view text);

  /// Distinct references in order of first appearance.
  const std::vector<Reference>& references() const noexcept { return references_; }

  /// Evaluates with values[i] bound to references()[i]. Division by zero gives NaN;
  /// NaN propagates (max/min/abs of NaN is NaN).
  double Evaluate(std::span<const double> values) const;

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
  std::vector<Reference> references_;
};

}  // namespace iwx::derived
