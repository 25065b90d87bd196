// chat/ast.hpp - the parsed template: expressions and statements.
//
// One node struct per family with a kind tag keeps the evaluator a pair of switches. Every
// node records its height (1 + its deepest child); the parser refuses trees taller than
// max_ast_height, so evaluating or destroying a tree can never exhaust the stack, whatever
// the template (`a+a+a+...` builds a left-deep chain without any nesting in the source).
#pragma once

#include "chat/value.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ember::chat {

inline constexpr int max_ast_height = 256;

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    enum class Kind : uint8_t {
        literal,      // value
        name,         // name
        list,         // items
        tuple,        // items
        dict,         // keyword (key expressions in items, values in items interleaved: k0 v0 k1 v1 ...)
        attr,         // a.name
        item,         // a[b]
        slice,        // a[b:c:d]; absent parts are null
        call,         // a(items..., keyword...)
        filter,       // a|name(items..., keyword...); a is null for the {% filter %} / block-set body
        test,         // a is [not] name(items...)
        unary,        // op a        (op: "-", "+", "not")
        binary,       // a op b      (+ - * / // % ** and or)
        concat,       // items joined with ~
        compare,      // a op0 items[0] op1 items[1] ... (ops in names)
        conditional,  // b if a else c
        block_value,  // the captured body of a block set / filter block
    };
    Kind kind;
    size_t offset = 0;
    int height = 1;
    Value value;
    std::string name;             // name, attr, filter/test name, operator
    bool negated = false;         // test: `is not`
    ExprPtr a, b, c, d;
    std::vector<ExprPtr> items;
    std::vector<std::pair<std::string, ExprPtr>> keyword;
    std::vector<std::string> names;  // compare: operators

    Expr(Kind k, size_t off) : kind(k), offset(off) {}
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

// Assignment target of for/set: one name, a tuple of names, or `ns.attr`.
struct Target {
    std::vector<std::string> names;  // size 1: plain name; >1: unpack
    std::string attr;                // non-empty: names[0].attr (namespace attribute)
    bool tuple = false;              // `a,` or `(a, b)`: unpack even with one name
};

struct MacroParam {
    std::string name;
    ExprPtr default_value;  // may be null
};

struct Stmt {
    enum class Kind : uint8_t {
        text,        // text
        output,      // {{ expr }}
        if_,         // branches (cond, body) ..., else_body
        for_,        // target in expr [if filter]: body [else else_body]
        set,         // target = expr
        set_block,   // {% set target [| filters] %}body{% endset %}: filter_expr may be null
        macro,       // name(params): body
        call_block,  // {% call(params) expr %}body{% endcall %}
        filter_block,  // {% filter f %}body{% endfilter %}
        with,        // {% with a = x, ... %}body{% endwith %}
        break_,
        continue_,
        scope,       // a body run as-is (generation blocks)
    };
    Kind kind;
    size_t offset = 0;
    int height = 1;
    std::string text;
    ExprPtr expr;
    ExprPtr filter_expr;  // for_: loop filter; set_block/filter_block: filter chain
    Target target;
    std::vector<std::pair<ExprPtr, Body>> branches;
    Body body, else_body;
    std::string name;
    std::vector<MacroParam> params;
    std::vector<std::pair<Target, ExprPtr>> assignments;  // with
    bool uses_loop = true;  // for_: whether the body names `loop` (if not, no loop object is built)

    Stmt(Kind k, size_t off) : kind(k), offset(off) {}
};

}  // namespace ember::chat
