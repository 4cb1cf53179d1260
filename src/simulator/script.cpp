#include "simulator/script.hpp"

#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace iwx::sim {

namespace {

bool IsOperator(char c) {
  return c == '+' || c == '-' || c == '*' || c == '/' || c == '<' || c == '>';
}

double Apply(char op, double left, double right) {
  switch (op) {
    case '+':
      return left + right;
    case '-':
      return left - right;
    case '*':
      return left * right;
    case '/':
      return right == 0 ? 0 : left / right;
    case '<':
      return std::min(left, right);
    default:
      return std::max(left, right);
  }
}

std::runtime_error ScriptError(const std::string& text, size_t position, const char* expected) {
  return std::runtime_error("invalid script \"" + text + "\" at position " +
                            std::to_string(position) + ": expected " + expected);
}

}  // namespace

Script Script::Parse(const std::string& text) {
  Script script;
  size_t i = 0;
  int depth = 0;
  bool want_operand = true;
  while (i < text.size()) {
    const char c = text[i];
    Token token;
    token.kind = c;
    if (want_operand && (c == '@' || c == '#')) {
      char* end = nullptr;
      const double number = std::strtod(text.c_str() + i + 1, &end);
      if (end == text.c_str() + i + 1) {
        throw ScriptError(text, i + 1, "a number after '@' or '#'");
      }
      if (c == '@' && (number < 0 || number > 14 || number != std::floor(number))) {
        throw ScriptError(text, i + 1, "an input channel 0-14 after '@'");
      }
      token.number = number;
      token.input = static_cast<int>(number);
      i = static_cast<size_t>(end - text.c_str());
      want_operand = false;
    } else if (want_operand && c == '(') {
      ++depth;
      ++i;
    } else if (!want_operand && (c == ')' || c == '|')) {
      if (c == ')' && --depth < 0) {
        throw ScriptError(text, i, "no ')' without a matching '('");
      }
      ++i;
    } else if (!want_operand && IsOperator(c)) {
      want_operand = true;
      ++i;
    } else {
      throw ScriptError(text, i, want_operand ? "'@n', '#c' or '('" : "an operator, '|' or ')'");
    }
    script.tokens_.push_back(token);
  }
  if (want_operand || depth != 0) {
    throw ScriptError(text, text.size(), want_operand ? "an operand" : "a closing ')'");
  }
  return script;
}

double Script::Evaluate(const std::function<double(int)>& value_of) const {
  size_t position = 0;
  const double result = EvaluateFrom(position, value_of);
  return std::isnan(result) ? 0 : result;
}

// Reads operand (operator operand)* up to ')' or the end, folding from the left.
double Script::EvaluateFrom(size_t& position, const std::function<double(int)>& value_of) const {
  double accumulator = 0;
  char pending = '+';
  while (position < tokens_.size()) {
    const Token& token = tokens_[position++];
    double operand = 0;
    if (token.kind == '(') {
      operand = EvaluateFrom(position, value_of);
    } else if (token.kind == '@') {
      operand = value_of(token.input);
    } else {
      operand = token.number;
    }
    while (position < tokens_.size() && tokens_[position].kind == '|') {
      operand = std::fabs(operand);
      ++position;
    }
    accumulator = Apply(pending, accumulator, operand);
    if (position >= tokens_.size()) {
      break;
    }
    const Token& next = tokens_[position++];
    if (next.kind == ')') {
      break;
    }
    pending = next.kind;
  }
  return accumulator;
}

std::vector<int> Script::Inputs() const {
  std::vector<int> inputs;
  for (const Token& token : tokens_) {
    if (token.kind == '@') {
      inputs.push_back(token.input);
    }
  }
  return inputs;
}

}  // namespace iwx::sim
