#include "web/web_config.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace iwx::web {

namespace {

constexpr std::array<std::string_view, 2> kTopKeys = {"tls_server_config", "basic_auth_users"};
constexpr std::array<std::string_view, 4> kTlsKeys = {"cert_file", "key_file", "client_auth_type",
                                                      "client_ca_file"};

constexpr std::string_view kNoClientCert = "NoClientCert";
constexpr std::string_view kRequireAndVerify = "RequireAndVerifyClientCert";

std::string Quote(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

template <size_t N>
std::string Join(const std::array<std::string_view, N>& items) {
  std::string text;
  for (const auto item : items) {
    text += (text.empty() ? "" : ", ") + std::string(item);
  }
  return text;
}

// One `key: value` line; value is empty for a line that opens a block.
struct Entry {
  std::string key;
  std::string value;
  bool quoted = false;
  int line = 0;
};

struct Section {
  Entry head;
  std::vector<Entry> entries;
};

[[noreturn]] void Fail(const std::string& source, int line, std::string_view key,
                       std::string_view message) {
  std::string text = source;
  if (line > 0) {
    text += ":" + std::to_string(line);
  }
  text += ": ";
  if (!key.empty()) {
    text += std::string(key) + ": ";
  }
  text += message;
  throw WebConfigError(text);
}

std::string_view TrimRight(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

std::string_view TrimLeft(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  return text;
}

// Reads the YAML subset line by line: block mappings at most two levels deep whose leaves
// are scalars. Anything else is rejected rather than guessed at.
class LineReader {
 public:
  LineReader(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  std::vector<Section> Read() {
    std::vector<Section> sections;
    int child_indent = 0;
    size_t start = 0;
    int number = 0;
    while (start <= text_.size()) {
      const size_t end = std::min(text_.find('\n', start), text_.size());
      std::string_view line = text_.substr(start, end - start);
      start = end + 1;
      ++number;
      line_ = number;
      if (line.ends_with('\r')) {
        line.remove_suffix(1);
      }

      const size_t indent = line.find_first_not_of(' ');
      if (indent == std::string_view::npos) {
        continue;
      }
      if (line[indent] == '\t') {
        Fail(source_, line_, "", "tab in indentation; expected spaces (YAML forbids tabs there)");
      }
      const std::string_view content = TrimRight(line.substr(indent));
      if (content.front() == '#') {
        continue;
      }
      if (content == "---" && sections.empty() && indent == 0) {
        continue;
      }
      if (content.starts_with("- ") || content == "-") {
        Fail(source_, line_, "",
             "a list item; expected \"key: value\" (no key of the web configuration takes a "
             "list)");
      }

      Entry entry = ReadEntry(content);
      if (indent == 0) {
        for (const auto& section : sections) {
          if (section.head.key == entry.key) {
            Fail(source_, line_, entry.key,
                 "duplicate key; it is already set at line " + std::to_string(section.head.line));
          }
        }
        sections.push_back(Section{std::move(entry), {}});
        child_indent = 0;
        continue;
      }

      if (sections.empty()) {
        Fail(source_, line_, "",
             "indented line before any top-level key; expected a key at the start of the line");
      }
      Section& section = sections.back();
      if (!section.head.value.empty() || section.head.quoted) {
        Fail(source_, line_, section.head.key + "." + entry.key,
             "indented under a key that already has a value; expected " + section.head.key +
                 " to have no value on its own line");
      }
      if (child_indent == 0) {
        child_indent = static_cast<int>(indent);
      } else if (static_cast<int>(indent) != child_indent) {
        Fail(source_, line_, section.head.key + "." + entry.key,
             "indented by " + std::to_string(indent) +
                 " spaces where the previous keys are "
                 "indented by " +
                 std::to_string(child_indent) +
                 "; expected the same indentation (values are nested at most two levels deep)");
      }
      if (entry.value.empty() && !entry.quoted) {
        Fail(source_, line_, section.head.key + "." + entry.key,
             "missing value; expected a string after the colon");
      }
      for (const auto& previous : section.entries) {
        if (previous.key == entry.key) {
          Fail(source_, line_, section.head.key + "." + entry.key,
               "duplicate key; it is already set at line " + std::to_string(previous.line));
        }
      }
      section.entries.push_back(std::move(entry));
    }
    return sections;
  }

 private:
  // `key: value  # comment`, key and value plain or quoted.
  Entry ReadEntry(std::string_view content) {
    Entry entry;
    entry.line = line_;
    std::string_view rest;
    if (content.front() == '"' || content.front() == '\'') {
      size_t used = 0;
      entry.key = ReadQuoted(content, used, "");
      rest = content.substr(used);
      if (!rest.starts_with(':')) {
        Fail(source_, line_, entry.key, "expected a colon after the quoted key");
      }
      rest.remove_prefix(1);
    } else {
      size_t colon = std::string_view::npos;
      for (size_t i = 0; i < content.size(); ++i) {
        if (content[i] == ':' && (i + 1 == content.size() || content[i + 1] == ' ')) {
          colon = i;
          break;
        }
        if (content[i] == '#' && i > 0 && content[i - 1] == ' ') {
          break;
        }
      }
      if (colon == std::string_view::npos) {
        Fail(source_, line_, "",
             Quote(content) + " is not a \"key: value\" line; expected a key followed by a colon");
      }
      entry.key = std::string(TrimRight(content.substr(0, colon)));
      rest = content.substr(colon + 1);
    }
    if (!rest.empty() && rest.front() != ' ') {
      Fail(source_, line_, entry.key, "expected a space after the colon");
    }
    ReadValue(TrimLeft(rest), entry);
    return entry;
  }

  void ReadValue(std::string_view text, Entry& entry) {
    if (text.empty() || text.front() == '#') {
      return;
    }
    if (text.front() == '"' || text.front() == '\'') {
      size_t used = 0;
      entry.value = ReadQuoted(text, used, entry.key);
      entry.quoted = true;
      const std::string_view after = TrimLeft(text.substr(used));
      if (!after.empty() && after.front() != '#') {
        Fail(source_, line_, entry.key,
             "text " + Quote(after) + " after the quoted value; expected a comment or nothing");
      }
      return;
    }

    // A plain scalar ends at " #".
    const size_t comment = text.find(" #");
    const std::string_view value = TrimRight(text.substr(0, comment));
    if (value == "{}") {
      // An empty map, as in `basic_auth_users: {}`.
      return;
    }
    constexpr std::string_view kIndicators = "[]{}&*!|>%@`";
    if (kIndicators.find(value.front()) != std::string_view::npos) {
      Fail(source_, line_, entry.key,
           Quote(value) +
               " uses YAML syntax this reader does not support (flow collections, anchors, "
               "tags, block scalars); expected a plain or quoted string, or nested "
               "\"key: value\" lines");
    }
    if (value == "~" || value == "null") {
      return;
    }
    entry.value = std::string(value);
  }

  // A quoted scalar at the start of `text`; `used` is set to the characters consumed.
  std::string ReadQuoted(std::string_view text, size_t& used, std::string_view key) {
    const char quote = text.front();
    std::string value;
    for (size_t i = 1; i < text.size(); ++i) {
      const char c = text[i];
      if (quote == '\'' && c == '\'') {
        if (i + 1 < text.size() && text[i + 1] == '\'') {
          value += '\'';
          ++i;
          continue;
        }
        used = i + 1;
        return value;
      }
      if (quote == '"' && c == '"') {
        used = i + 1;
        return value;
      }
      if (quote == '"' && c == '\\') {
        if (i + 1 == text.size()) {
          break;
        }
        const char escaped = text[++i];
        switch (escaped) {
          case '"':
          case '\\':
          case '/':
            value += escaped;
            break;
          case 'n':
            value += '\n';
            break;
          case 't':
            value += '\t';
            break;
          default:
            Fail(source_, line_, key,
                 "unsupported escape \"\\" + std::string(1, escaped) +
                     "\" in a double-quoted string; expected \\\\, \\\", \\/, \\n or \\t");
        }
        continue;
      }
      value += c;
    }
    Fail(source_, line_, key,
         std::string("unterminated ") + (quote == '"' ? "double" : "single") +
             "-quoted string; expected the closing quote on the same line");
  }

  std::string_view text_;
  const std::string& source_;
  int line_ = 0;
};

bool IsBcryptHash(std::string_view hash) {
  // $2b$10$ followed by 22 characters of salt and 31 of hash, in bcrypt's base64 alphabet.
  constexpr size_t kLength = 60;
  if (hash.size() != kLength || hash[0] != '$' || hash[1] != '2' ||
      (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') || hash[3] != '$' || hash[6] != '$') {
    return false;
  }
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  const auto base64 = [&](char c) {
    return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '/';
  };
  if (!digit(hash[4]) || !digit(hash[5])) {
    return false;
  }
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  return cost >= 4 && cost <= 31 && std::all_of(hash.begin() + 7, hash.end(), base64);
}

class Interpreter {
 public:
  explicit Interpreter(const std::string& source) : source_(source) {}

  WebSecurity Read(const std::vector<Section>& sections) {
    WebSecurity security;
    for (const Section& section : sections) {
      const std::string& key = section.head.key;
      if (std::find(kTopKeys.begin(), kTopKeys.end(), key) == kTopKeys.end()) {
        Fail(source_, section.head.line, key,
             "unknown key " + Quote(key) + "; expected one of " + Join(kTopKeys));
      }
      if (!section.head.value.empty() || section.head.quoted) {
        Fail(source_, section.head.line, key,
             Quote(section.head.value) +
                 " is a string; expected a map of keys on the "
                 "following lines, indented");
      }
      if (key == "tls_server_config") {
        security.tls = ReadTls(section);
      } else {
        security.basic_auth_users = ReadUsers(section);
      }
    }
    return security;
  }

 private:
  TlsConfig ReadTls(const Section& section) {
    TlsConfig tls;
    const Entry* client_auth = nullptr;
    const Entry* client_ca = nullptr;
    for (const Entry& entry : section.entries) {
      const std::string key = "tls_server_config." + entry.key;
      if (std::find(kTlsKeys.begin(), kTlsKeys.end(), entry.key) == kTlsKeys.end()) {
        Fail(source_, entry.line, key,
             "unknown key " + Quote(entry.key) + "; expected one of " + Join(kTlsKeys));
      }
      if (entry.key == "client_auth_type") {
        client_auth = &entry;
        continue;
      }
      if (entry.value.empty()) {
        Fail(source_, entry.line, key, "empty path; expected a file name");
      }
      const std::string path = RelativeToFile(entry.value);
      if (entry.key == "cert_file") {
        tls.cert_file = path;
      } else if (entry.key == "key_file") {
        tls.key_file = path;
      } else {
        client_ca = &entry;
        tls.client_ca_file = path;
      }
    }

    if (tls.cert_file.empty()) {
      Fail(source_, section.head.line, "tls_server_config.cert_file",
           "missing; expected the path of the server's PEM certificate");
    }
    if (tls.key_file.empty()) {
      Fail(source_, section.head.line, "tls_server_config.key_file",
           "missing; expected the path of the server's PEM private key");
    }

    if (client_auth != nullptr) {
      if (client_auth->value == kRequireAndVerify) {
        tls.client_auth = ClientAuth::kRequireAndVerify;
      } else if (client_auth->value != kNoClientCert) {
        Fail(source_, client_auth->line, "tls_server_config.client_auth_type",
             Quote(client_auth->value) + " is not supported; expected " +
                 std::string(kNoClientCert) + " or " + std::string(kRequireAndVerify));
      }
    }
    if (tls.client_auth == ClientAuth::kRequireAndVerify && client_ca == nullptr) {
      Fail(source_, client_auth->line, "tls_server_config.client_ca_file",
           "missing; RequireAndVerifyClientCert needs the PEM file of the CAs that sign client "
           "certificates");
    }
    if (tls.client_auth == ClientAuth::kNone && client_ca != nullptr) {
      Fail(source_, client_ca->line, "tls_server_config.client_ca_file",
           Quote(client_ca->value) +
               " is set but client certificates are not checked; expected client_auth_type: "
               "RequireAndVerifyClientCert as well, or no client_ca_file");
    }
    return tls;
  }

  std::map<std::string, std::string> ReadUsers(const Section& section) {
    std::map<std::string, std::string> users;
    for (const Entry& entry : section.entries) {
      const std::string key = "basic_auth_users." + entry.key;
      if (entry.key.empty() || entry.key.find(':') != std::string::npos) {
        Fail(source_, entry.line, key,
             "user name " + Quote(entry.key) +
                 " cannot be used with basic authentication; expected a non-empty name "
                 "without ':'");
      }
      // The value is not quoted back: it may be a password pasted by mistake.
      if (!IsBcryptHash(entry.value)) {
        Fail(source_, entry.line, key,
             "the value is not a bcrypt hash (not shown: it may be a password); expected 60 "
             "characters starting with $2a$, $2b$ or $2y$ and a cost, such as the part after "
             "the colon of `htpasswd -nBC 10 " +
                 entry.key + "`");
      }
      users[entry.key] = entry.value;
    }
    return users;
  }

  std::string RelativeToFile(const std::string& path) const {
    const std::filesystem::path file(path);
    if (file.is_absolute()) {
      return path;
    }
    return (std::filesystem::path(source_).parent_path() / file).string();
  }

  const std::string& source_;
};

}  // namespace

WebSecurity ParseWebConfig(std::string_view text, const std::string& source) {
  LineReader reader(text, source);
  return Interpreter(source).Read(reader.Read());
}

WebSecurity LoadWebConfigFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    Fail(path, 0, "", "cannot read web configuration file: " + std::string(std::strerror(errno)));
  }
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) {
    Fail(path, 0, "", "cannot read web configuration file: " + std::string(std::strerror(errno)));
  }
  return ParseWebConfig(text.str(), path);
}

}  // namespace iwx::web
