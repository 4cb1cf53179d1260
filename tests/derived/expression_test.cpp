#include "derived/expression.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace iwx::derived {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Eval(const std::string& text, const std::vector<double>& values = {}) {
  return Expression::Parse(text).Evaluate(values);
}

struct ValueCase {
  std::string text;
  double expected;
};

TEST(Expression, follows_precedence_and_left_associativity) {
  const std::vector<ValueCase> cases = {
      {"2-3-4", -5},        {"2*3+4", 10},      {"2+3*4", 14},   {"-2*3", -6},
      {"8/4/2", 1},         {"(2+3)*4", 20},    {"2*(3+4)", 14}, {"- -2", 2},
      {"--2", 2},           {"-(2-5)", 3},      {"2 - -3", 5},   {"1.5", 1.5},
      {"1e3", 1000},        {"2.5E-1", 0.25},   {"0", 0},        {"max(1,2,3)", 3},
      {"min(4, 2, 3)", 2},  {"max(7)", 7},      {"abs(-4)", 4},  {"abs(2-5)*2", 6},
      {"max(0, 1 - 3)", 0}, {"-max(1, 2)", -2}, {"10 / 4", 2.5}, {" 1 +\t2 ", 3},
  };
  for (const auto& [text, expected] : cases) {
    EXPECT_DOUBLE_EQ(Eval(text), expected) << text;
  }
}

TEST(Expression, binds_values_to_references_in_order_of_first_appearance) {
  const Expression expression = Expression::Parse("b - iwatt5.Mains_1 + b * max(a, 0)");

  const std::vector<Reference> expected = {{"", "b", 1}, {"iwatt5", "Mains_1", 5}, {"", "a", 30}};
  EXPECT_EQ(expression.references(), expected);
  EXPECT_EQ(expression.references()[1].column, 5);
  EXPECT_EQ(expression.references()[2].column, 30);
  EXPECT_DOUBLE_EQ(expression.Evaluate(std::vector<double>{10, 4, 3}), 36);
}

TEST(Expression, allows_function_names_as_channel_names) {
  const Expression expression = Expression::Parse("max + dev.abs");

  const std::vector<Reference> expected = {{"", "max", 1}, {"dev", "abs", 7}};
  EXPECT_EQ(expression.references(), expected);
}

TEST(Expression, propagates_nan) {
  const std::vector<std::string> texts = {"a + 1",     "a * 0",  "max(0, a)", "max(a, 0)",
                                          "min(a, 1)", "abs(a)", "-a",        "0 / a"};
  for (const auto& text : texts) {
    EXPECT_TRUE(std::isnan(Eval(text, {kNaN}))) << text;
  }
}

TEST(Expression, gives_nan_for_division_by_zero) {
  EXPECT_TRUE(std::isnan(Eval("1 / 0")));
  EXPECT_TRUE(std::isnan(Eval("0 / 0")));
  EXPECT_TRUE(std::isnan(Eval("a / (b - b)", {1, 2})));
}

TEST(Expression, gives_nan_for_missing_values) {
  EXPECT_TRUE(std::isnan(Eval("a + b", {1})));
  EXPECT_TRUE(std::isnan(Expression().Evaluate({})));
}

struct ErrorCase {
  std::string text;
  int column;
  std::string message;
};

TEST(Expression, reports_syntax_errors_with_column) {
  const std::vector<ErrorCase> cases = {
      {"", 1, "empty expression; expected a formula such as \"a + b\""},
      {"   ", 1, "empty expression; expected a formula such as \"a + b\""},
      {"a +", 4, "expected a number, a name or '(' but found the end of the expression"},
      {"a + * b", 5, "expected a number, a name or '(' but found '*'"},
      {"a b", 3, "expected an operator or the end of the expression but found \"b\""},
      {"a # b", 3, "expected an operator or the end of the expression but found '#'"},
      {"(a + b", 7, "expected ')' to close '(' at column 1 but found the end of the expression"},
      {"a + b)", 6, "expected an operator or the end of the expression but found ')'"},
      {"max(a, b", 9, "expected ')' to close '(' at column 4 but found the end of the expression"},
      {"sum(a, b)", 1, "unknown function \"sum\"; expected max, min or abs"},
      {"abs(a, b)", 1, "abs takes exactly one argument, got 2"},
      {"2 * abs()", 5, "abs needs exactly one argument"},
      {"max()", 1, "max needs at least one argument"},
      {"min( )", 1, "min needs at least one argument"},
      {"max(a,)", 7, "expected a number, a name or '(' but found ')'"},
      {"iwatt5.", 8,
       "expected a channel name after \"iwatt5.\" but found the end of the expression"},
      {"iwatt5.1", 8, "expected a channel name after \"iwatt5.\" but found '1'"},
      {"1.", 1, "malformed number \"1.\"; expected a number such as 2, 1.5 or 1e3"},
      {"2 + 1e", 5, "malformed number \"1e\"; expected a number such as 2, 1.5 or 1e3"},
      {"1.2.3", 1, "malformed number \"1.2.3\"; expected a number such as 2, 1.5 or 1e3"},
      {"2x", 1, "malformed number \"2x\"; expected a number such as 2, 1.5 or 1e3"},
      {"1e999", 1, "number \"1e999\" is out of range"},
      {".5", 1, "expected a number, a name or '(' but found '.'"},
      {std::string(70, '(') + "1" + std::string(70, ')'), 65,
       "expression is nested more than 64 levels deep"},
  };
  for (const auto& [text, column, message] : cases) {
    try {
      Expression::Parse(text);
      ADD_FAILURE() << "no error for " << text;
    } catch (const ExpressionError& error) {
      EXPECT_EQ(error.what(), message) << text;
      EXPECT_EQ(error.column(), column) << text;
    }
  }
}

TEST(Expression, evaluates_deep_nesting_within_the_limit) {
  std::string text = "1";
  for (int i = 0; i < 60; ++i) {
    text = "(1 + " + text + ")";
  }
  EXPECT_DOUBLE_EQ(Eval(text), 61);
}

}  // namespace
}  // namespace iwx::derived
