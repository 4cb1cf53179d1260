#include "derived/expression.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace iwx::derived {

namespace {

enum class Op : std::uint8_t {
  kConstant,
  kLoad,
  kNegate,
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kMax,
  kMin,
  kAbs
};

struct Instruction {
  Op op;
  // Index into the values passed to Evaluate (kLoad only).
  std::uint32_t index = 0;
  // The number pushed (kConstant only).
  double constant = 0.0;
};

// Evaluation uses a fixed stack on the machine stack, so Evaluate never allocates.
// Parentheses, unary minus and function calls each add one level of parser recursion;
// bounding that nesting bounds the evaluation stack as well.
constexpr int kMaxNesting = 64;
constexpr size_t kMaxStack = kMaxNesting + 4;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool IsNameChar(char c) {
  return IsNameStart(c) || (c >= '0' && c <= '9');
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

struct Expression::Node {
  std::vector<Instruction> program;
};

namespace {

// Recursive-descent parser that emits postfix instructions while it reads, one method
// per grammar rule of expression.hpp.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  void Run() {
    SkipSpaces();
    if (AtEnd()) {
      throw ExpressionError(1, "empty expression; expected a formula such as \"a + b\"");
    }

    ParseSum();

    SkipSpaces();
    if (!AtEnd()) {
      Fail("expected an operator or the end of the expression but found " + DescribeNext());
    }
  }

  std::vector<Instruction> TakeProgram() { return std::move(program_); }
  std::vector<Reference> TakeReferences() { return std::move(references_); }

 private:
  void ParseSum() {
    ParseProduct();
    for (;;) {
      SkipSpaces();
      if (Accept('+')) {
        ParseProduct();
        Emit({Op::kAdd}, -1);
      } else if (Accept('-')) {
        ParseProduct();
        Emit({Op::kSubtract}, -1);
      } else {
        return;
      }
    }
  }

  void ParseProduct() {
    ParseUnary();
    for (;;) {
      SkipSpaces();
      if (Accept('*')) {
        ParseUnary();
        Emit({Op::kMultiply}, -1);
      } else if (Accept('/')) {
        ParseUnary();
        Emit({Op::kDivide}, -1);
      } else {
        return;
      }
    }
  }

  void ParseUnary() {
    SkipSpaces();
    if (Accept('-')) {
      const NestingGuard guard(*this);
      ParseUnary();
      Emit({Op::kNegate}, 0);
      return;
    }
    ParsePrimary();
  }

  void ParsePrimary() {
    SkipSpaces();
    if (AtEnd()) {
      Fail("expected a number, a name or '(' but found " + DescribeNext());
    }

    const char next = text_[pos_];
    if (IsDigit(next)) {
      ParseNumber();
    } else if (IsNameStart(next)) {
      ParseNameOrCall();
    } else if (next == '(') {
      ParseParenthesized();
    } else {
      Fail("expected a number, a name or '(' but found " + DescribeNext());
    }
  }

  void ParseNumber() {
    const size_t start = pos_;
    ScanDigits();
    if (Accept('.')) {
      RequireDigits(start);
    }
    if (Accept('e') || Accept('E')) {
      if (!Accept('+')) {
        Accept('-');
      }
      RequireDigits(start);
    }
    if (IsNameChar(Peek()) || Peek() == '.') {
      ThrowMalformedNumber(start);
    }

    const std::string_view lexeme = text_.substr(start, pos_ - start);
    double value = 0.0;
    const auto result = std::from_chars(lexeme.data(), lexeme.data() + lexeme.size(), value);
    if (result.ec != std::errc{}) {
      throw ExpressionError(Column(start),
                            "number \"" + std::string(lexeme) + "\" is out of range");
    }
    Emit({Op::kConstant, 0, value}, 1);
  }

  void ParseNameOrCall() {
    const size_t start = pos_;
    const std::string_view name = ScanName();

    if (Peek() == '.') {
      ++pos_;
      if (!IsNameStart(Peek())) {
        throw ExpressionError(Column(pos_), "expected a channel name after \"" + std::string(name) +
                                                ".\" but found " + DescribeNext());
      }
      const std::string_view channel = ScanName();
      EmitLoad(Reference{std::string(name), std::string(channel), Column(start)});
      return;
    }

    SkipSpaces();
    if (Peek() == '(') {
      ParseCall(name, start);
      return;
    }
    EmitLoad(Reference{"", std::string(name), Column(start)});
  }

  void ParseCall(std::string_view function, size_t start) {
    Op op = Op::kAbs;
    if (function == "max") {
      op = Op::kMax;
    } else if (function == "min") {
      op = Op::kMin;
    } else if (function != "abs") {
      throw ExpressionError(Column(start), "unknown function \"" + std::string(function) +
                                               "\"; expected max, min or abs");
    }

    const NestingGuard guard(*this);
    const size_t open = pos_;
    Accept('(');
    SkipSpaces();
    if (Peek() == ')') {
      throw ExpressionError(
          Column(start), std::string(function) + " needs " +
                             (op == Op::kAbs ? "exactly one argument" : "at least one argument"));
    }

    // max(a, b, c) becomes a b max c max: the stack never holds more than two arguments.
    int arguments = 0;
    do {
      ParseSum();
      ++arguments;
      if (arguments > 1 && op != Op::kAbs) {
        Emit({op}, -1);
      }
      SkipSpaces();
    } while (Accept(','));

    ExpectClose(open);
    if (op == Op::kAbs) {
      if (arguments != 1) {
        throw ExpressionError(Column(start),
                              "abs takes exactly one argument, got " + std::to_string(arguments));
      }
      Emit({Op::kAbs}, 0);
    }
  }

  void ParseParenthesized() {
    const NestingGuard guard(*this);
    const size_t open = pos_;
    Accept('(');
    ParseSum();
    SkipSpaces();
    ExpectClose(open);
  }

  void ExpectClose(size_t open) {
    if (!Accept(')')) {
      Fail("expected ')' to close '(' at column " + std::to_string(Column(open)) + " but found " +
           DescribeNext());
    }
  }

  void EmitLoad(Reference reference) {
    size_t index = 0;
    while (index < references_.size() && !(references_[index] == reference)) {
      ++index;
    }
    if (index == references_.size()) {
      references_.push_back(std::move(reference));
    }
    Emit({Op::kLoad, static_cast<std::uint32_t>(index)}, 1);
  }

  // stack_effect: how many values the instruction adds to (or removes from) the stack.
  void Emit(Instruction instruction, int stack_effect) {
    program_.push_back(instruction);
    depth_ += stack_effect;
    if (depth_ > static_cast<int>(kMaxStack)) {
      Fail("expression is nested too deeply");
    }
  }

  // Counts nesting for the duration of one recursive rule.
  class NestingGuard {
   public:
    explicit NestingGuard(Parser& parser) : parser_(parser) {
      if (++parser_.nesting_ > kMaxNesting) {
        parser_.Fail("expression is nested more than " + std::to_string(kMaxNesting) +
                     " levels deep");
      }
    }
    ~NestingGuard() { --parser_.nesting_; }
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;

   private:
    Parser& parser_;
  };

  void ScanDigits() {
    while (IsDigit(Peek())) {
      ++pos_;
    }
  }

  void RequireDigits(size_t number_start) {
    if (!IsDigit(Peek())) {
      ThrowMalformedNumber(number_start);
    }
    ScanDigits();
  }

  // Quotes the whole run of characters that looks like part of the number ("1.2.3", "2x").
  [[noreturn]] void ThrowMalformedNumber(size_t number_start) {
    while (IsNameChar(Peek()) || Peek() == '.') {
      ++pos_;
    }
    throw ExpressionError(Column(number_start),
                          "malformed number \"" +
                              std::string(text_.substr(number_start, pos_ - number_start)) +
                              "\"; expected a number such as 2, 1.5 or 1e3");
  }

  std::string_view ScanName() {
    const size_t start = pos_;
    while (IsNameChar(Peek())) {
      ++pos_;
    }
    return text_.substr(start, pos_ - start);
  }

  std::string DescribeNext() const {
    if (AtEnd()) {
      return "the end of the expression";
    }
    const char next = text_[pos_];
    if (IsNameStart(next)) {
      size_t end = pos_;
      while (end < text_.size() && IsNameChar(text_[end])) {
        ++end;
      }
      return "\"" + std::string(text_.substr(pos_, end - pos_)) + "\"";
    }
    return "'" + std::string(1, next) + "'";
  }

  [[noreturn]] void Fail(const std::string& message) const {
    throw ExpressionError(Column(pos_), message);
  }

  void SkipSpaces() {
    while (Peek() == ' ' || Peek() == '\t') {
      ++pos_;
    }
  }

  bool Accept(char c) {
    if (Peek() != c) {
      return false;
    }
    ++pos_;
    return true;
  }

  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  bool AtEnd() const { return pos_ >= text_.size(); }
  static int Column(size_t pos) { return static_cast<int>(pos) + 1; }

  std::string_view text_;
  size_t pos_ = 0;
  int depth_ = 0;
  int nesting_ = 0;
  std::vector<Instruction> program_;
  std::vector<Reference> references_;
};

// Unlike std::max, a NaN on either side gives NaN: a missing input must not be hidden.
double MaxOf(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) {
    return kNaN;
  }
  return a < b ? b : a;
}

double MinOf(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) {
    return kNaN;
  }
  return b < a ? b : a;
}

double Divide(double a, double b) {
  return b == 0.0 ? kNaN : a / b;
}

}  // namespace

ExpressionError::ExpressionError(int column, const std::string& message)
    : std::runtime_error(message), column_(column) {}

Expression Expression::Parse(std::string_view text) {
  Parser parser(text);
  parser.Run();

  auto node = std::make_shared<Node>();
  node->program = parser.TakeProgram();

  Expression expression;
  expression.root_ = std::move(node);
  expression.references_ = parser.TakeReferences();
  return expression;
}

double Expression::Evaluate(std::span<const double> values) const {
  if (root_ == nullptr) {
    return kNaN;
  }

  std::array<double, kMaxStack> stack;
  size_t top = 0;
  for (const Instruction& instruction : root_->program) {
    switch (instruction.op) {
      case Op::kConstant:
        stack[top++] = instruction.constant;
        continue;
      case Op::kLoad:
        stack[top++] = instruction.index < values.size() ? values[instruction.index] : kNaN;
        continue;
      case Op::kNegate:
        stack[top - 1] = -stack[top - 1];
        continue;
      case Op::kAbs:
        stack[top - 1] = std::fabs(stack[top - 1]);
        continue;
      default:
        break;
    }

    // Binary operators: pop the right operand, combine into the left one.
    const double right = stack[--top];
    double& left = stack[top - 1];
    switch (instruction.op) {
      case Op::kAdd:
        left += right;
        break;
      case Op::kSubtract:
        left -= right;
        break;
      case Op::kMultiply:
        left *= right;
        break;
      case Op::kDivide:
        left = Divide(left, right);
        break;
      case Op::kMax:
        left = MaxOf(left, right);
        break;
      case Op::kMin:
        left = MinOf(left, right);
        break;
      default:
        break;
    }
  }
  return top == 1 ? stack[0] : kNaN;
}

}  // namespace iwx::derived
