// A strict little XML reader for tests: enough to prove JUnit output is well formed and to count its
// elements. Rejects unbalanced tags, unquoted or duplicate attributes, raw '<' or stray '&' in text,
// unknown entities and control characters.
#pragma once

#include <cctype>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace natcert::reports::testing {

struct XmlNode {
  std::string name;
  std::map<std::string, std::string> attributes;
  std::vector<std::unique_ptr<XmlNode>> children;
  std::string text;

  std::vector<const XmlNode*> all(std::string_view element) const {
    std::vector<const XmlNode*> out;
    for (const auto& child : children) {
      if (child->name == element) out.push_back(child.get());
    }
    return out;
  }
  const XmlNode* first(std::string_view element) const {
    for (const auto& child : children) {
      if (child->name == element) return child.get();
    }
    return nullptr;
  }
  std::string attr(const std::string& key) const {
    const auto it = attributes.find(key);
    return it == attributes.end() ? std::string() : it->second;
  }
};

class MiniXml {
 public:
  // Throws std::runtime_error with the offset on the first problem.
  static std::unique_ptr<XmlNode> parse(std::string_view text) {
    MiniXml reader(text);
    return reader.document();
  }

 private:
  explicit MiniXml(std::string_view text) : text_(text) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("XML error at byte " + std::to_string(pos_) + ": " + what);
  }
  bool starts(std::string_view s) const { return text_.substr(pos_, s.size()) == s; }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' || text_[pos_] == '\r')) ++pos_;
  }
  std::string name() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '-' ||
                                   text_[pos_] == '_' || text_[pos_] == '.' || text_[pos_] == ':')) {
      ++pos_;
    }
    if (pos_ == start) fail("expected a name");
    return std::string(text_.substr(start, pos_ - start));
  }
  std::string decoded(std::string_view raw) {
    std::string out;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const auto c = static_cast<unsigned char>(raw[i]);
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') fail("control character in text");
      if (raw[i] == '<') fail("raw '<' in text");
      if (raw[i] != '&') {
        out += raw[i];
        continue;
      }
      const auto end = raw.find(';', i);
      if (end == std::string_view::npos) fail("unterminated entity");
      const auto entity = raw.substr(i + 1, end - i - 1);
      if (entity == "amp") out += '&';
      else if (entity == "lt") out += '<';
      else if (entity == "gt") out += '>';
      else if (entity == "quot") out += '"';
      else if (entity == "apos") out += '\'';
      else if (entity.size() > 1 && entity[0] == '#') out += static_cast<char>(std::stoi(std::string(entity.substr(1))));
      else fail("unknown entity &" + std::string(entity) + ";");
      i = end;
    }
    return out;
  }
  std::unique_ptr<XmlNode> document() {
    if (starts("<?xml")) {
      const auto end = text_.find("?>", pos_);
      if (end == std::string_view::npos) fail("unterminated declaration");
      pos_ = end + 2;
    }
    skip_space();
    auto root = element();
    skip_space();
    if (pos_ != text_.size()) fail("content after the root element");
    return root;
  }
  std::unique_ptr<XmlNode> element() {
    if (!starts("<")) fail("expected '<'");
    ++pos_;
    auto node = std::make_unique<XmlNode>();
    node->name = name();
    for (;;) {
      skip_space();
      if (starts("/>")) {
        pos_ += 2;
        return node;
      }
      if (starts(">")) {
        ++pos_;
        break;
      }
      const std::string key = name();
      if (!starts("=\"")) fail("attribute " + key + " is not key=\"value\"");
      pos_ += 2;
      const auto end = text_.find('"', pos_);
      if (end == std::string_view::npos) fail("unterminated attribute");
      if (node->attributes.count(key)) fail("duplicate attribute " + key);
      node->attributes[key] = decoded(text_.substr(pos_, end - pos_));
      pos_ = end + 1;
    }
    for (;;) {
      const auto next = text_.find('<', pos_);
      if (next == std::string_view::npos) fail("unterminated element " + node->name);
      node->text += decoded(text_.substr(pos_, next - pos_));
      pos_ = next;
      if (starts("</")) {
        pos_ += 2;
        const std::string closing = name();
        if (closing != node->name) fail("</" + closing + "> closes <" + node->name + ">");
        skip_space();
        if (!starts(">")) fail("expected '>'");
        ++pos_;
        return node;
      }
      node->children.push_back(element());
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace natcert::reports::testing
