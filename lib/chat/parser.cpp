// chat/parser.cpp - recursive descent over jinja2's grammar.
//
// Precedence, loosest first (as jinja2's parser has it): conditional `x if c else y`, or,
// and, not, comparisons (== != < <= > >= in, not in), + -, ~, * / // %, **, unary - +,
// then postfix (.attr, [item], [a:b:c], call) and finally filters `|f` and tests `is t`.
// So `a + b is defined` is `a + (b is defined)`, and `-x|abs` is `(-x)|abs`.
#include "chat/parser.hpp"

#include "chat/parser_impl.hpp"

namespace ember::chat {

namespace detail {

// Parse until `{% <one of ends> %}`; the found tag name is stored in end_tag (its block
// is left open at the tag name for the caller to finish). An empty `ends` means: to the
// end of the template.
Body Parser::parse_body(std::initializer_list<std::string_view> ends, std::string &end_tag) {
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

StmtPtr Parser::parse_statement() {
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

StmtPtr Parser::parse_if(size_t off) {
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

StmtPtr Parser::parse_for(size_t off) {
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

Target Parser::parse_target(bool allow_attr) {
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

StmtPtr Parser::parse_set(size_t off) {
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

void Parser::parse_params(Stmt &s) {
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

StmtPtr Parser::parse_macro(size_t off) {
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

StmtPtr Parser::parse_call_block(size_t off) {
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

StmtPtr Parser::parse_filter_block(size_t off) {
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

StmtPtr Parser::parse_with(size_t off) {
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

}  // namespace detail

Body parse(const std::vector<Token> &tokens) { return detail::Parser(tokens).parse_template(); }

}  // namespace ember::chat
