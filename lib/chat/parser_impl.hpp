// chat/parser_impl.hpp - the recursive-descent parser behind parse() (parser.hpp), shared by
// parser.cpp (statements) and parse_expr.cpp (expressions). Internal to lib/chat.
#pragma once

#include "chat/ast.hpp"
#include "chat/error.hpp"
#include "chat/lexer.hpp"

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace ember::chat::detail {

inline constexpr int max_parse_nesting = 256;  // about two per level of source nesting

class Parser {
public:
    explicit Parser(const std::vector<Token> &tokens) : t_(tokens) {}

    Body parse_template() {
        std::string end_tag;
        Body body = parse_body({}, end_tag);
        return body;
    }

private:
    const std::vector<Token> &t_;
    size_t i_ = 0;
    int nesting_ = 0;
    int loop_refs_ = 0;  // how many times the name `loop` has been parsed so far

    // Guards recursion of the parser itself.
    struct Nest {
        Parser &p;
        explicit Nest(Parser &parser) : p(parser) {
            if (++p.nesting_ > max_parse_nesting)
                throw TemplateFailure{fmt::format("template nested deeper than {} levels", max_parse_nesting),
                                      p.cur().offset};
        }
        ~Nest() { --p.nesting_; }
    };

    const Token &cur() const { return t_[std::min(i_, t_.size() - 1)]; }
    const Token &peek(size_t k = 1) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
    void next() {
        if (i_ + 1 < t_.size()) ++i_;
    }
    bool is_op(std::string_view op, size_t k = 0) const {
        const Token &t = peek(k);
        return t.kind == Tok::op && t.value == op;
    }
    bool is_name(std::string_view n, size_t k = 0) const {
        const Token &t = peek(k);
        return t.kind == Tok::name && t.value == n;
    }
    bool skip_op(std::string_view op) {
        if (!is_op(op)) return false;
        next();
        return true;
    }
    bool skip_name(std::string_view n) {
        if (!is_name(n)) return false;
        next();
        return true;
    }

    static std::string describe(const Token &t) {
        switch (t.kind) {
        case Tok::text: return "template text";
        case Tok::var_begin: return "'{{'";
        case Tok::var_end: return "'}}'";
        case Tok::block_begin: return "'{%'";
        case Tok::block_end: return "'%}'";
        case Tok::name: return fmt::format("'{}'", t.value);
        case Tok::string: return "string literal";
        case Tok::integer:
        case Tok::floating: return "number '" + t.value + "'";
        case Tok::op: return fmt::format("'{}'", t.value);
        case Tok::end: return "end of template";
        }
        return "token";
    }

    [[noreturn]] void fail_here(const std::string &message) const {
        throw TemplateFailure{message, cur().offset};
    }
    [[noreturn]] void unexpected(std::string_view wanted) const {
        fail_here(fmt::format("expected {}, got {}", wanted, describe(cur())));
    }
    void expect_op(std::string_view op) {
        if (!skip_op(op)) unexpected(fmt::format("'{}'", op));
    }
    std::string expect_name() {
        if (cur().kind != Tok::name) unexpected("a name");
        std::string n = cur().value;
        next();
        return n;
    }
    void expect_block_end() {
        if (cur().kind != Tok::block_end) unexpected("end of statement block '%}'");
        next();
    }

    // ---- tree building with height checks ----------------------------------------------

    ExprPtr make(Expr::Kind kind, size_t offset) { return std::make_unique<Expr>(kind, offset); }

    ExprPtr finish(ExprPtr e) {
        int h = 0;
        for (const Expr *c : {e->a.get(), e->b.get(), e->c.get(), e->d.get()})
            if (c) h = std::max(h, c->height);
        for (const auto &c : e->items)
            if (c) h = std::max(h, c->height);
        for (const auto &kv : e->keyword) h = std::max(h, kv.second->height);
        e->height = h + 1;
        if (e->height > max_ast_height)
            throw TemplateFailure{fmt::format("expression nested deeper than {} levels", max_ast_height), e->offset};
        return e;
    }

    static int body_height(const Body &body) {
        int h = 0;
        for (const auto &s : body) h = std::max(h, s->height);
        return h;
    }

    StmtPtr finish(StmtPtr s) {
        int h = 0;
        for (const Expr *e : {s->expr.get(), s->filter_expr.get()})
            if (e) h = std::max(h, e->height);
        for (const auto &br : s->branches) h = std::max({h, br.first->height, body_height(br.second)});
        h = std::max({h, body_height(s->body), body_height(s->else_body)});
        for (const auto &p : s->params)
            if (p.default_value) h = std::max(h, p.default_value->height);
        for (const auto &a : s->assignments) h = std::max(h, a.second->height);
        s->height = h + 1;
        if (s->height > max_ast_height)
            throw TemplateFailure{fmt::format("template nested deeper than {} levels", max_ast_height), s->offset};
        return s;
    }


    // ---- statements ---------------------------------------------------------------------
    // Parse until `{% <one of ends> %}`; the found tag name is stored in end_tag (its block
    // is left open at the tag name for the caller to finish). An empty `ends` means: to the
    // end of the template.
    Body parse_body(std::initializer_list<std::string_view> ends, std::string &end_tag);
    StmtPtr parse_statement();
    StmtPtr parse_if(size_t off);
    StmtPtr parse_for(size_t off);
    Target parse_target(bool allow_attr);
    StmtPtr parse_set(size_t off);
    void parse_params(Stmt &s);
    StmtPtr parse_macro(size_t off);
    StmtPtr parse_call_block(size_t off);
    StmtPtr parse_filter_block(size_t off);
    StmtPtr parse_with(size_t off);

    // ---- expressions ---------------------------------------------------------------------
    // expr, or a tuple `a, b` (used where jinja2 calls parse_tuple: prints, set values,
    // for iterables, if conditions).
    ExprPtr parse_tuple(bool condexpr);
    ExprPtr parse_expression(bool condexpr);
    ExprPtr binary(std::string op, ExprPtr left, ExprPtr right, size_t off);
    ExprPtr parse_or();
    ExprPtr parse_and();
    ExprPtr parse_not();
    ExprPtr parse_compare();
    ExprPtr parse_math1();
    ExprPtr parse_concat();
    ExprPtr parse_math2();
    ExprPtr parse_pow();
    ExprPtr parse_unary(bool with_filter);
    ExprPtr parse_primary();
    ExprPtr parse_paren();
    ExprPtr parse_list();
    ExprPtr parse_dict();
    ExprPtr parse_postfix(ExprPtr e);
    ExprPtr parse_subscript(ExprPtr obj, size_t off);
    // `(args, name=value)` into items/keyword of e.
    void parse_args(Expr &e);
    ExprPtr parse_call(ExprPtr callee);
    std::string dotted_name();
    ExprPtr parse_filter(ExprPtr obj);
    ExprPtr parse_filters(ExprPtr e);
};

}  // namespace ember::chat::detail
