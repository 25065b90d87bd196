// chat/parser.cpp - recursive descent over jinja2's grammar.
//
// Precedence, loosest first (as jinja2's parser has it): conditional `x if c else y`, or,
// and, not, comparisons (== != < <= > >= in, not in), + -, ~, * / // %, **, unary - +,
// then postfix (.attr, [item], [a:b:c], call) and finally filters `|f` and tests `is t`.
// So `a + b is defined` is `a + (b is defined)`, and `-x|abs` is `(-x)|abs`.
#include "chat/parser.hpp"

#include "chat/error.hpp"

#include <algorithm>
#include <initializer_list>

namespace ember::chat {

namespace {

constexpr int max_parse_nesting = 256;  // about two per level of source nesting

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
        case Tok::name: return "'" + t.value + "'";
        case Tok::string: return "string literal";
        case Tok::integer:
        case Tok::floating: return "number '" + t.value + "'";
        case Tok::op: return "'" + t.value + "'";
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
        if (!skip_op(op)) unexpected("'" + std::string(op) + "'");
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
    Body parse_body(std::initializer_list<std::string_view> ends, std::string &end_tag) {
        Nest nest(*this);
        Body body;
        for (;;) {
            const Token &t = cur();
            if (t.kind == Tok::end) {
                if (ends.size() == 0) return body;
                fail_here(fmt::format("unexpected end of template: expected '{{% {} %}}'", *ends.begin()));
            }
            if (t.kind == Tok::text) {
                auto s = std::make_unique<Stmt>(Stmt::Kind::text, t.offset);
                s->text = t.value;
                body.push_back(finish(std::move(s)));
                next();
            } else if (t.kind == Tok::var_begin) {
                next();
                auto s = std::make_unique<Stmt>(Stmt::Kind::output, t.offset);
                s->expr = parse_tuple(true);
                if (cur().kind != Tok::var_end) unexpected("end of print statement '}}'");
                next();
                body.push_back(finish(std::move(s)));
            } else if (t.kind == Tok::block_begin) {
                next();
                if (cur().kind != Tok::name) unexpected("a tag name");
                const std::string &tag = cur().value;
                for (auto e : ends) {
                    if (tag == e) {
                        end_tag = tag;
                        next();
                        return body;
                    }
                }
                body.push_back(parse_statement());
            } else {
                unexpected("template text or a tag");
            }
        }
    }

    StmtPtr parse_statement() {
        const Token &t = cur();
        std::string tag = t.value;
        size_t off = t.offset;
        next();
        if (tag == "if") return parse_if(off);
        if (tag == "for") return parse_for(off);
        if (tag == "set") return parse_set(off);
        if (tag == "macro") return parse_macro(off);
        if (tag == "call") return parse_call_block(off);
        if (tag == "filter") return parse_filter_block(off);
        if (tag == "with") return parse_with(off);
        if (tag == "break" || tag == "continue") {
            expect_block_end();
            return finish(std::make_unique<Stmt>(tag == "break" ? Stmt::Kind::break_ : Stmt::Kind::continue_, off));
        }
        if (tag == "generation") {  // Hugging Face's assistant-mask extension: renders its body
            expect_block_end();
            auto s = std::make_unique<Stmt>(Stmt::Kind::scope, off);
            std::string end;
            s->body = parse_body({"endgeneration"}, end);
            expect_block_end();
            return finish(std::move(s));
        }
        throw TemplateFailure{fmt::format("encountered unknown tag '{}'", tag), off};
    }

    StmtPtr parse_if(size_t off) {
        auto s = std::make_unique<Stmt>(Stmt::Kind::if_, off);
        for (;;) {
            ExprPtr cond = parse_tuple(false);
            expect_block_end();
            std::string end;
            Body body = parse_body({"elif", "else", "endif"}, end);
            s->branches.emplace_back(std::move(cond), std::move(body));
            if (end == "elif") continue;
            if (end == "else") {
                expect_block_end();
                s->else_body = parse_body({"endif"}, end);
            }
            expect_block_end();
            return finish(std::move(s));
        }
    }

    StmtPtr parse_for(size_t off) {
        auto s = std::make_unique<Stmt>(Stmt::Kind::for_, off);
        s->target = parse_target(false);
        if (!skip_name("in")) unexpected("'in'");
        s->expr = parse_tuple(false);
        if (skip_name("if")) s->filter_expr = parse_expression(true);
        if (skip_name("recursive")) fail_here("recursive for loops are not supported");
        expect_block_end();
        std::string end;
        int refs_before = loop_refs_;
        s->body = parse_body({"endfor", "else"}, end);
        s->uses_loop = loop_refs_ != refs_before;
        if (end == "else") {
            expect_block_end();
            s->else_body = parse_body({"endfor"}, end);
        }
        expect_block_end();
        return finish(std::move(s));
    }

    Target parse_target(bool allow_attr) {
        Target target;
        bool paren = skip_op("(");
        target.names.push_back(expect_name());
        if (allow_attr && !paren && skip_op(".")) {
            target.attr = expect_name();
            return target;
        }
        while (skip_op(",")) {
            target.tuple = true;
            if (cur().kind != Tok::name || is_name("in")) break;
            target.names.push_back(expect_name());
        }
        if (paren) {
            expect_op(")");
            target.tuple = true;
        }
        return target;
    }

    StmtPtr parse_set(size_t off) {
        Target target = parse_target(true);
        if (skip_op("=")) {
            auto s = std::make_unique<Stmt>(Stmt::Kind::set, off);
            s->target = std::move(target);
            s->expr = parse_tuple(true);
            expect_block_end();
            return finish(std::move(s));
        }
        auto s = std::make_unique<Stmt>(Stmt::Kind::set_block, off);
        s->target = std::move(target);
        if (is_op("|")) s->filter_expr = parse_filters(make(Expr::Kind::block_value, off));
        expect_block_end();
        std::string end;
        s->body = parse_body({"endset"}, end);
        expect_block_end();
        return finish(std::move(s));
    }

    void parse_params(Stmt &s) {
        expect_op("(");
        while (!is_op(")")) {
            if (!s.params.empty()) expect_op(",");
            if (is_op(")")) break;
            MacroParam p;
            p.name = expect_name();
            if (skip_op("=")) p.default_value = parse_expression(true);
            s.params.push_back(std::move(p));
        }
        expect_op(")");
    }

    StmtPtr parse_macro(size_t off) {
        auto s = std::make_unique<Stmt>(Stmt::Kind::macro, off);
        s->name = expect_name();
        parse_params(*s);
        expect_block_end();
        std::string end;
        s->body = parse_body({"endmacro"}, end);
        if (cur().kind == Tok::name) next();  // `{% endmacro name %}`
        expect_block_end();
        return finish(std::move(s));
    }

    StmtPtr parse_call_block(size_t off) {
        auto s = std::make_unique<Stmt>(Stmt::Kind::call_block, off);
        if (is_op("(")) parse_params(*s);
        s->expr = parse_expression(true);
        if (s->expr->kind != Expr::Kind::call) throw TemplateFailure{"expected a call after {% call %}", s->expr->offset};
        expect_block_end();
        std::string end;
        s->body = parse_body({"endcall"}, end);
        expect_block_end();
        return finish(std::move(s));
    }

    StmtPtr parse_filter_block(size_t off) {
        auto s = std::make_unique<Stmt>(Stmt::Kind::filter_block, off);
        auto base = make(Expr::Kind::block_value, off);
        s->filter_expr = parse_filter(std::move(base));
        while (is_op("|")) s->filter_expr = parse_filter(std::move(s->filter_expr));
        expect_block_end();
        std::string end;
        s->body = parse_body({"endfilter"}, end);
        expect_block_end();
        return finish(std::move(s));
    }

    StmtPtr parse_with(size_t off) {
        auto s = std::make_unique<Stmt>(Stmt::Kind::with, off);
        while (cur().kind != Tok::block_end) {
            if (!s->assignments.empty()) expect_op(",");
            Target target = parse_target(false);
            expect_op("=");
            s->assignments.emplace_back(std::move(target), parse_expression(true));
        }
        expect_block_end();
        std::string end;
        s->body = parse_body({"endwith"}, end);
        expect_block_end();
        return finish(std::move(s));
    }

    // ---- expressions ---------------------------------------------------------------------

    // expr, or a tuple `a, b` (used where jinja2 calls parse_tuple: prints, set values,
    // for iterables, if conditions).
    ExprPtr parse_tuple(bool condexpr) {
        size_t off = cur().offset;
        ExprPtr first = parse_expression(condexpr);
        if (!is_op(",")) return first;
        auto t = make(Expr::Kind::tuple, off);
        t->items.push_back(std::move(first));
        while (skip_op(",")) {
            if (cur().kind == Tok::block_end || cur().kind == Tok::var_end || is_name("if") || is_op(")") || is_op("="))
                break;
            t->items.push_back(parse_expression(condexpr));
        }
        return finish(std::move(t));
    }

    ExprPtr parse_expression(bool condexpr) {
        Nest nest(*this);
        ExprPtr e = parse_or();
        if (!condexpr) return e;
        while (is_name("if")) {
            size_t off = cur().offset;
            next();
            auto c = make(Expr::Kind::conditional, off);
            c->a = parse_or();  // condition
            c->b = std::move(e);
            if (skip_name("else")) c->c = parse_expression(true);
            e = finish(std::move(c));
        }
        return e;
    }

    ExprPtr binary(std::string op, ExprPtr left, ExprPtr right, size_t off) {
        auto e = make(Expr::Kind::binary, off);
        e->name = std::move(op);
        e->a = std::move(left);
        e->b = std::move(right);
        return finish(std::move(e));
    }

    ExprPtr parse_or() {
        ExprPtr e = parse_and();
        while (is_name("or")) {
            size_t off = cur().offset;
            next();
            e = binary("or", std::move(e), parse_and(), off);
        }
        return e;
    }

    ExprPtr parse_and() {
        ExprPtr e = parse_not();
        while (is_name("and")) {
            size_t off = cur().offset;
            next();
            e = binary("and", std::move(e), parse_not(), off);
        }
        return e;
    }

    ExprPtr parse_not() {
        if (is_name("not")) {
            Nest nest(*this);
            auto e = make(Expr::Kind::unary, cur().offset);
            next();
            e->name = "not";
            e->a = parse_not();
            return finish(std::move(e));
        }
        return parse_compare();
    }

    ExprPtr parse_compare() {
        size_t off = cur().offset;
        ExprPtr left = parse_math1();
        ExprPtr cmp;
        for (;;) {
            std::string op;
            if (cur().kind == Tok::op &&
                (cur().value == "==" || cur().value == "!=" || cur().value == "<" || cur().value == "<=" ||
                 cur().value == ">" || cur().value == ">=")) {
                op = cur().value;
                next();
            } else if (is_name("in")) {
                op = "in";
                next();
            } else if (is_name("not") && is_name("in", 1)) {
                op = "not in";
                next();
                next();
            } else {
                break;
            }
            if (!cmp) {
                cmp = make(Expr::Kind::compare, off);
                cmp->a = std::move(left);
            }
            cmp->names.push_back(op);
            cmp->items.push_back(parse_math1());
        }
        return cmp ? finish(std::move(cmp)) : std::move(left);
    }

    ExprPtr parse_math1() {
        ExprPtr e = parse_concat();
        while (is_op("+") || is_op("-")) {
            std::string op = cur().value;
            size_t off = cur().offset;
            next();
            e = binary(op, std::move(e), parse_concat(), off);
        }
        return e;
    }

    ExprPtr parse_concat() {
        size_t off = cur().offset;
        ExprPtr first = parse_math2();
        if (!is_op("~")) return first;
        auto e = make(Expr::Kind::concat, off);
        e->items.push_back(std::move(first));
        while (skip_op("~")) e->items.push_back(parse_math2());
        return finish(std::move(e));
    }

    ExprPtr parse_math2() {
        ExprPtr e = parse_pow();
        while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
            std::string op = cur().value;
            size_t off = cur().offset;
            next();
            e = binary(op, std::move(e), parse_pow(), off);
        }
        return e;
    }

    ExprPtr parse_pow() {
        ExprPtr e = parse_unary(true);
        while (is_op("**")) {
            size_t off = cur().offset;
            next();
            e = binary("**", std::move(e), parse_unary(true), off);
        }
        return e;
    }

    ExprPtr parse_unary(bool with_filter) {
        Nest nest(*this);
        ExprPtr e;
        if (is_op("-") || is_op("+")) {
            auto u = make(Expr::Kind::unary, cur().offset);
            u->name = cur().value;
            next();
            u->a = parse_unary(false);
            e = finish(std::move(u));
        } else {
            e = parse_primary();
        }
        e = parse_postfix(std::move(e));
        if (with_filter) e = parse_filters(std::move(e));
        return e;
    }

    ExprPtr parse_primary() {
        const Token &t = cur();
        size_t off = t.offset;
        switch (t.kind) {
        case Tok::name: {
            auto e = make(Expr::Kind::literal, off);
            if (t.value == "true" || t.value == "True") e->value = Value(true);
            else if (t.value == "false" || t.value == "False") e->value = Value(false);
            else if (t.value == "none" || t.value == "None") e->value = Value(None{});
            else {
                e->kind = Expr::Kind::name;
                e->name = t.value;
                if (t.value == "loop") ++loop_refs_;
            }
            next();
            return finish(std::move(e));
        }
        case Tok::string: {
            std::string s;
            while (cur().kind == Tok::string) {  // adjacent literals concatenate
                s += cur().value;
                next();
            }
            auto e = make(Expr::Kind::literal, off);
            e->value = Value(std::move(s));
            return finish(std::move(e));
        }
        case Tok::integer:
        case Tok::floating: {
            auto e = make(Expr::Kind::literal, off);
            e->value = t.kind == Tok::integer ? Value(t.int_value) : Value(t.float_value);
            next();
            return finish(std::move(e));
        }
        case Tok::op:
            if (t.value == "(") return parse_paren();
            if (t.value == "[") return parse_list();
            if (t.value == "{") return parse_dict();
            break;
        default: break;
        }
        unexpected("an expression");
    }

    ExprPtr parse_paren() {
        size_t off = cur().offset;
        next();
        if (skip_op(")")) return finish(make(Expr::Kind::tuple, off));
        ExprPtr first = parse_expression(true);
        if (skip_op(")")) return first;
        auto t = make(Expr::Kind::tuple, off);
        t->items.push_back(std::move(first));
        while (skip_op(",")) {
            if (is_op(")")) break;
            t->items.push_back(parse_expression(true));
        }
        expect_op(")");
        return finish(std::move(t));
    }

    ExprPtr parse_list() {
        auto e = make(Expr::Kind::list, cur().offset);
        next();
        while (!is_op("]")) {
            if (!e->items.empty()) expect_op(",");
            if (is_op("]")) break;
            e->items.push_back(parse_expression(true));
        }
        expect_op("]");
        return finish(std::move(e));
    }

    ExprPtr parse_dict() {
        auto e = make(Expr::Kind::dict, cur().offset);
        next();
        while (!is_op("}")) {
            if (!e->items.empty()) expect_op(",");
            if (is_op("}")) break;
            e->items.push_back(parse_expression(true));
            expect_op(":");
            e->items.push_back(parse_expression(true));
        }
        expect_op("}");
        return finish(std::move(e));
    }

    ExprPtr parse_postfix(ExprPtr e) {
        for (;;) {
            size_t off = cur().offset;
            if (skip_op(".")) {
                if (cur().kind == Tok::name) {
                    auto a = make(Expr::Kind::attr, off);
                    a->a = std::move(e);
                    a->name = cur().value;
                    next();
                    e = finish(std::move(a));
                } else if (cur().kind == Tok::integer) {
                    auto a = make(Expr::Kind::item, off);
                    a->a = std::move(e);
                    a->b = make(Expr::Kind::literal, off);
                    a->b->value = Value(cur().int_value);
                    next();
                    e = finish(std::move(a));
                } else {
                    unexpected("an attribute name");
                }
            } else if (is_op("[")) {
                next();
                e = parse_subscript(std::move(e), off);
            } else if (is_op("(")) {
                e = parse_call(std::move(e));
            } else {
                return e;
            }
        }
    }

    ExprPtr parse_subscript(ExprPtr obj, size_t off) {
        ExprPtr parts[3];
        int colons = 0;
        for (;;) {
            if (is_op("]")) break;
            if (skip_op(":")) {
                if (++colons > 2) unexpected("']'");
                continue;
            }
            if (parts[colons]) unexpected("':' or ']'");
            parts[colons] = parse_expression(true);
        }
        expect_op("]");
        if (colons == 0) {
            if (!parts[0]) unexpected("an index");
            auto e = make(Expr::Kind::item, off);
            e->a = std::move(obj);
            e->b = std::move(parts[0]);
            return finish(std::move(e));
        }
        auto e = make(Expr::Kind::slice, off);
        e->a = std::move(obj);
        e->b = std::move(parts[0]);
        e->c = std::move(parts[1]);
        e->d = std::move(parts[2]);
        return finish(std::move(e));
    }

    // `(args, name=value)` into items/keyword of e.
    void parse_args(Expr &e) {
        expect_op("(");
        bool first = true;
        while (!is_op(")")) {
            if (!first) expect_op(",");
            first = false;
            if (is_op(")")) break;
            if (cur().kind == Tok::name && is_op("=", 1)) {
                std::string key = cur().value;
                next();
                next();
                e.keyword.emplace_back(std::move(key), parse_expression(true));
            } else {
                if (!e.keyword.empty()) fail_here("positional argument follows keyword argument");
                e.items.push_back(parse_expression(true));
            }
        }
        expect_op(")");
    }

    ExprPtr parse_call(ExprPtr callee) {
        auto e = make(Expr::Kind::call, callee->offset);
        e->a = std::move(callee);
        parse_args(*e);
        return finish(std::move(e));
    }

    std::string dotted_name() {
        std::string n = expect_name();
        while (skip_op(".")) n += "." + expect_name();
        return n;
    }

    ExprPtr parse_filter(ExprPtr obj) {
        auto e = make(Expr::Kind::filter, cur().offset);
        e->a = std::move(obj);
        e->name = dotted_name();
        if (is_op("(")) parse_args(*e);
        return finish(std::move(e));
    }

    ExprPtr parse_filters(ExprPtr e) {
        for (;;) {
            if (skip_op("|")) {
                e = parse_filter(std::move(e));
            } else if (is_name("is")) {
                auto t = make(Expr::Kind::test, cur().offset);
                next();
                t->negated = skip_name("not");
                t->a = std::move(e);
                t->name = dotted_name();
                if (is_op("(")) {
                    parse_args(*t);
                } else if ((cur().kind == Tok::name || cur().kind == Tok::string || cur().kind == Tok::integer ||
                            cur().kind == Tok::floating || is_op("[") || is_op("{")) &&
                           !is_name("else") && !is_name("or") && !is_name("and")) {
                    if (is_name("is")) fail_here("you cannot chain multiple tests with is");
                    t->items.push_back(parse_postfix(parse_primary()));
                }
                e = finish(std::move(t));
            } else if (is_op("(")) {
                e = parse_call(std::move(e));
            } else {
                return e;
            }
        }
    }
};

}  // namespace

Body parse(const std::vector<Token> &tokens) { return Parser(tokens).parse_template(); }

}  // namespace ember::chat
