// chat/interp.hpp - evaluating a parsed template against a context, within fixed limits.
//
// Scoping follows jinja2: `for` bodies, macros and `with` get a fresh frame whose lookups
// fall back to the enclosing one, so a `set` inside a loop is gone after the loop (which is
// why templates use namespace()); `if` bodies share their frame. Names not found in any
// frame come from the context, then from the globals (range, namespace, raise_exception ...).
//
// Everything a hostile template could grow is bounded: loop iterations and calls (steps),
// output and string sizes, list lengths, call depth and evaluation depth. Exceeding a bound
// is a TemplateFailure like any other template error.
#pragma once

#include "chat/ast.hpp"
#include "chat/value.hpp"

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ember::chat {

struct Limits {
    size_t max_output_bytes = size_t{16} << 20;  // rendered text, and any one string value
    size_t max_list_items = 250'000;              // any one list built by the template (range(), *, + ...)
    uint64_t max_steps = 1'000'000;               // loop iterations, calls, filters and tests
    uint64_t max_work = 50'000'000;               // see WorkBudget (value.hpp): about a second of work
    int max_call_depth = 100;                     // nested macro calls
    int max_eval_depth = 1000;                    // nested statement/expression evaluation
};

// Broken-down local time, what strftime_now formats.
struct DateTime {
    int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
};

struct Frame {
    std::unordered_map<std::string, Value> vars;
    std::shared_ptr<Frame> parent;
    const Value *find(const std::string &name) const;
};

class Interpreter {
public:
    Interpreter(const ObjectData &context, const Limits &limits, std::function<DateTime()> clock);
    ~Interpreter();
    Interpreter(const Interpreter &) = delete;
    Interpreter &operator=(const Interpreter &) = delete;

    std::string render(const Body &body);

    // Used by builtins.
    const Limits &limits() const { return limits_; }
    void step();                              // one unit of work; fails past max_steps
    void check_string(size_t bytes) const;    // fails when a string would exceed the limit
    void check_list(size_t items) const;      // same for lists
    DateTime now() const { return clock_(); }
    NamespacePtr new_namespace();             // tracked, so reference cycles are broken at the end
    Value call(const Value &callee, CallArgs &args);
    Value eval(const Expr &e);

private:
    enum class Flow { normal, break_, continue_ };

    const ObjectData &context_;
    Limits limits_;
    std::function<DateTime()> clock_;
    std::string out_;
    std::shared_ptr<Frame> frame_;
    std::vector<NamespacePtr> namespaces_;
    uint64_t steps_ = 0;
    int depth_ = 0;
    int call_depth_ = 0;
    Value block_value_;

    struct DepthGuard;

    void write(std::string_view s);
    Value lookup(const std::string &name) const;
    Flow exec(const Body &body);
    Flow exec(const Stmt &s);
    Flow exec_for(const Stmt &s);
    Value loop_object(const std::vector<Value> &items, int64_t i);
    void exec_set(const Stmt &s);
    void assign(const Target &target, const Value &value, Frame &frame);
    std::string capture(const Body &body, std::shared_ptr<Frame> frame);
    Value make_macro(const Stmt &s, bool is_caller);
    Value eval_inner(const Expr &e);
    Value eval_call(const Expr &e);
    CallArgs eval_args(const Expr &e);
};

// Attribute, item and slice access with jinja2's rules (a.b prefers methods then keys,
// a['b'] prefers keys; misses are Undefined, access through Undefined fails).
Value get_attr(Interpreter &in, const Value &obj, const std::string &name);
Value get_item(Interpreter &in, const Value &obj, const Value &key);
Value get_slice(Interpreter &in, const Value &obj, const Value &start, const Value &stop, const Value &step);
// The items a for loop visits: list items, dict keys, string characters; Undefined is empty.
std::vector<Value> iterate(const Value &v);
// Binary operators (+ - * / // % **), `in`, and comparisons.
Value binary_op(Interpreter &in, std::string_view op, const Value &a, const Value &b);
bool contains(const Value &container, const Value &item);
bool compare(std::string_view op, const Value &a, const Value &b);

}  // namespace ember::chat
