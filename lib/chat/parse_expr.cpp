// chat/parse_expr.cpp - expressions, with jinja2's precedence (see parser.cpp).
#include "chat/parser_impl.hpp"

namespace ember::chat::detail {

// expr, or a tuple `a, b` (used where jinja2 calls parse_tuple: prints, set values,
// for iterables, if conditions).
ExprPtr Parser::parse_tuple(bool condexpr) {
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

ExprPtr Parser::parse_expression(bool condexpr) {
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

ExprPtr Parser::binary(std::string op, ExprPtr left, ExprPtr right, size_t off) {
    auto e = make(Expr::Kind::binary, off);
    e->name = std::move(op);
    e->a = std::move(left);
    e->b = std::move(right);
    return finish(std::move(e));
}

ExprPtr Parser::parse_or() {
    ExprPtr e = parse_and();
    while (is_name("or")) {
        size_t off = cur().offset;
        next();
        e = binary("or", std::move(e), parse_and(), off);
    }
    return e;
}

ExprPtr Parser::parse_and() {
    ExprPtr e = parse_not();
    while (is_name("and")) {
        size_t off = cur().offset;
        next();
        e = binary("and", std::move(e), parse_not(), off);
    }
    return e;
}

ExprPtr Parser::parse_not() {
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

ExprPtr Parser::parse_compare() {
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

ExprPtr Parser::parse_math1() {
    ExprPtr e = parse_concat();
    while (is_op("+") || is_op("-")) {
        std::string op = cur().value;
        size_t off = cur().offset;
        next();
        e = binary(op, std::move(e), parse_concat(), off);
    }
    return e;
}

ExprPtr Parser::parse_concat() {
    size_t off = cur().offset;
    ExprPtr first = parse_math2();
    if (!is_op("~")) return first;
    auto e = make(Expr::Kind::concat, off);
    e->items.push_back(std::move(first));
    while (skip_op("~")) e->items.push_back(parse_math2());
    return finish(std::move(e));
}

ExprPtr Parser::parse_math2() {
    ExprPtr e = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
        std::string op = cur().value;
        size_t off = cur().offset;
        next();
        e = binary(op, std::move(e), parse_pow(), off);
    }
    return e;
}

ExprPtr Parser::parse_pow() {
    ExprPtr e = parse_unary(true);
    while (is_op("**")) {
        size_t off = cur().offset;
        next();
        e = binary("**", std::move(e), parse_unary(true), off);
    }
    return e;
}

ExprPtr Parser::parse_unary(bool with_filter) {
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

ExprPtr Parser::parse_primary() {
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

ExprPtr Parser::parse_paren() {
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

ExprPtr Parser::parse_list() {
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

ExprPtr Parser::parse_dict() {
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

ExprPtr Parser::parse_postfix(ExprPtr e) {
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

ExprPtr Parser::parse_subscript(ExprPtr obj, size_t off) {
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
void Parser::parse_args(Expr &e) {
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

ExprPtr Parser::parse_call(ExprPtr callee) {
    auto e = make(Expr::Kind::call, callee->offset);
    e->a = std::move(callee);
    parse_args(*e);
    return finish(std::move(e));
}

std::string Parser::dotted_name() {
    std::string n = expect_name();
    while (skip_op(".")) n += "." + expect_name();
    return n;
}

ExprPtr Parser::parse_filter(ExprPtr obj) {
    auto e = make(Expr::Kind::filter, cur().offset);
    e->a = std::move(obj);
    e->name = dotted_name();
    if (is_op("(")) parse_args(*e);
    return finish(std::move(e));
}

ExprPtr Parser::parse_filters(ExprPtr e) {
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

}  // namespace ember::chat::detail
