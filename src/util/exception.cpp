#include "util/exception.hpp"

namespace iwx::util {

std::string FullMessage(const std::exception& error) {
  std::string message = error.what();
  try {
    std::rethrow_if_nested(error);
  } catch (const std::exception& nested) {
    message += "; ";
    message += FullMessage(nested);
  } catch (...) {
    message += "; unknown error";
  }
  return message;
}

std::string FullMessage(std::exception_ptr error) {
  try {
    if (error) {
      std::rethrow_exception(error);
    }
  } catch (const std::exception& caught) {
    return FullMessage(caught);
  } catch (...) {
  }
  return "unknown error";
}

}  // namespace iwx::util
