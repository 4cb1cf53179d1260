// Output scripts in the firmware's syntax, evaluated strictly left to right.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace iwx::sim {

/// `@n` input n, `#c` constant, operators + - * / < (min) > (max), postfix `|` (absolute
/// value of the operand just read), parentheses. No precedence: `@1+@2*#2` is (@1+@2)*2.
/// Division by zero gives 0; a NaN result gives 0.
class Script {
 public:
  /// \throw std::runtime_error quoting the script and the offending character.
  static Script Parse(const std::string& text);

  /// Runs the script; value_of(n) supplies the value of input n.
  double Evaluate(const std::function<double(int)>& value_of) const;

  /// The input channels the script reads.
  std::vector<int> Inputs() const;

 private:
  struct Token {
    char kind = '#';  // '@', '#', an operator, '|', '(' or ')'
    double number = 0;
    int input = 0;
  };

  double EvaluateFrom(size_t& position, const std::function<double(int)>& value_of) const;

  std::vector<Token> tokens_;
};

}  // namespace iwx::sim
