// chat/parser.hpp - tokens to statements, with jinja2's grammar and operator precedence.
#pragma once

#include "chat/ast.hpp"
#include "chat/lexer.hpp"

#include <vector>

namespace ember::chat {

// Parse a whole template. Throws TemplateFailure (with offset) on any syntax error, an
// unknown tag, a tag closed by the wrong end tag, or a tree deeper than max_ast_height.
Body parse(const std::vector<Token> &tokens);

}  // namespace ember::chat
