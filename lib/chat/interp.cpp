// chat/interp.cpp - running statements and evaluating expressions (see interp.hpp).
#include "chat/interp.hpp"

#include "chat/builtins.hpp"
#include "chat/error.hpp"

namespace ember::chat {

const Value *Frame::find(const std::string &name) const {
    for (const Frame *f = this; f; f = f->parent.get()) {
        auto it = f->vars.find(name);
        if (it != f->vars.end()) return &it->second;
    }
    return nullptr;
}

// Counts nested evaluation so no template can recurse the C++ stack without bound.
struct Interpreter::DepthGuard {
    Interpreter &in;
    explicit DepthGuard(Interpreter &interp) : in(interp) {
        if (++in.depth_ > in.limits_.max_eval_depth) {
            --in.depth_;
            raise("template evaluation nested deeper than {} levels", in.limits_.max_eval_depth);
        }
    }
    ~DepthGuard() { --in.depth_; }
};

Interpreter::Interpreter(const ObjectData &context, const Limits &limits, std::function<DateTime()> clock)
    : context_(context), limits_(limits), clock_(std::move(clock)), frame_(std::make_shared<Frame>()) {}

Interpreter::~Interpreter() {
    // A namespace can hold itself (`{% set ns.me = ns %}`); emptying every namespace made
    // during the render breaks such cycles so nothing leaks.
    for (auto &ns : namespaces_) ns->attrs.clear();
}

NamespacePtr Interpreter::new_namespace() {
    auto ns = std::make_shared<NamespaceData>();
    namespaces_.push_back(ns);
    return ns;
}

void Interpreter::step() {
    if (++steps_ > limits_.max_steps)
        raise("template exceeded {} loop iterations and calls", limits_.max_steps);
}

void Interpreter::check_string(size_t bytes) const {
    if (bytes > limits_.max_output_bytes)
        raise("template built a string over the {}-byte limit", limits_.max_output_bytes);
}

void Interpreter::check_list(size_t items) const {
    if (items > limits_.max_list_items) raise("template built a list over the {}-item limit", limits_.max_list_items);
    charge(items / 16);
}

void Interpreter::write(std::string_view s) {
    if (out_.size() + s.size() > limits_.max_output_bytes)
        raise("template output exceeds the {}-byte limit", limits_.max_output_bytes);
    charge_bytes(s.size());
    out_ += s;
}

std::string Interpreter::render(const Body &body) {
    WorkBudget budget(limits_.max_work, limits_.max_output_bytes);
    exec(body);
    return std::move(out_);
}

Value Interpreter::lookup(const std::string &name) const {
    if (const Value *v = frame_->find(name)) return *v;
    if (const Value *v = context_.find(name)) return *v;
    if (auto g = global_function(name)) return *g;
    return Value(Undefined{fmt::format("'{}' is undefined", name)});
}

// ---- statements ---------------------------------------------------------------------------

Interpreter::Flow Interpreter::exec(const Body &body) {
    for (const auto &s : body) {
        Flow f = exec(*s);
        if (f != Flow::normal) return f;
    }
    return Flow::normal;
}

std::string Interpreter::capture(const Body &body, std::shared_ptr<Frame> frame) {
    size_t mark = out_.size();
    std::swap(frame_, frame);
    try {
        exec(body);
    } catch (...) {
        std::swap(frame_, frame);
        throw;
    }
    std::swap(frame_, frame);
    std::string captured = out_.substr(mark);
    out_.resize(mark);
    return captured;
}

Interpreter::Flow Interpreter::exec(const Stmt &s) {
    DepthGuard guard(*this);
    try {
        switch (s.kind) {
        case Stmt::Kind::text: write(s.text); return Flow::normal;
        case Stmt::Kind::output: write(to_str(eval(*s.expr))); return Flow::normal;
        case Stmt::Kind::if_:
            for (const auto &br : s.branches)
                if (truthy(eval(*br.first))) return exec(br.second);
            return exec(s.else_body);
        case Stmt::Kind::for_: return exec_for(s);
        case Stmt::Kind::set: exec_set(s); return Flow::normal;
        case Stmt::Kind::set_block: {
            Value captured(capture(s.body, frame_));
            if (s.filter_expr) {
                std::swap(block_value_, captured);
                captured = eval(*s.filter_expr);
            }
            assign(s.target, captured, *frame_);
            return Flow::normal;
        }
        case Stmt::Kind::macro: frame_->vars[s.name] = make_macro(s, false); return Flow::normal;
        case Stmt::Kind::call_block: {
            const Expr &call = *s.expr;
            Value callee = eval(*call.a);
            CallArgs args = eval_args(call);
            args.keyword.emplace_back("caller", make_macro(s, true));
            write(to_str(this->call(callee, args)));
            return Flow::normal;
        }
        case Stmt::Kind::filter_block: {
            block_value_ = Value(capture(s.body, frame_));
            write(to_str(eval(*s.filter_expr)));
            return Flow::normal;
        }
        case Stmt::Kind::with: {
            auto frame = std::make_shared<Frame>();
            frame->parent = frame_;
            for (const auto &[target, expr] : s.assignments) assign(target, eval(*expr), *frame);
            write(capture(s.body, frame));
            return Flow::normal;
        }
        case Stmt::Kind::scope: return exec(s.body);
        case Stmt::Kind::break_: return Flow::break_;
        case Stmt::Kind::continue_: return Flow::continue_;
        }
    } catch (TemplateFailure &f) {
        if (f.offset == static_cast<size_t>(-1)) f.offset = s.offset;
        throw;
    }
    return Flow::normal;
}

Interpreter::Flow Interpreter::exec_for(const Stmt &s) {
    Value iterable = eval(*s.expr);
    // Lists are iterated in place (they are immutable); other iterables are materialized.
    std::vector<Value> materialized;
    const std::vector<Value> *items = &materialized;
    if (iterable.is_array()) items = &iterable.as_array().items;
    else materialized = iterate(iterable);

    auto frame = std::make_shared<Frame>();
    frame->parent = frame_;
    std::swap(frame_, frame);  // frame now holds the enclosing frame
    struct Restore {
        std::shared_ptr<Frame> &slot, &saved;
        ~Restore() { std::swap(slot, saved); }
    } restore{frame_, frame};

    if (s.filter_expr) {  // `for x in xs if cond`: filtered before the loop, so loop.length counts what is kept
        std::vector<Value> kept;
        for (const auto &item : *items) {
            step();
            frame_->vars.clear();
            assign(s.target, item, *frame_);
            if (truthy(eval(*s.filter_expr))) kept.push_back(item);
        }
        materialized = std::move(kept);
        items = &materialized;
    }
    if (items->empty()) {
        std::swap(frame_, frame);
        Flow f = exec(s.else_body);
        std::swap(frame_, frame);
        return f;
    }
    const auto n = static_cast<int64_t>(items->size());
    for (int64_t i = 0; i < n; ++i) {
        step();
        frame_->vars.clear();  // each iteration starts with a fresh scope, as in jinja2
        assign(s.target, (*items)[static_cast<size_t>(i)], *frame_);
        if (s.uses_loop) frame_->vars["loop"] = loop_object(*items, i);
        if (exec(s.body) == Flow::break_) break;
    }
    return Flow::normal;
}

// jinja2's loop variable for iteration i of items.
Value Interpreter::loop_object(const std::vector<Value> &items, int64_t i) {
    const auto n = static_cast<int64_t>(items.size());
    std::vector<std::pair<std::string, Value>> loop = {
        {"index", Value(i + 1)},         {"index0", Value(i)},      {"revindex", Value(n - i)},
        {"revindex0", Value(n - i - 1)}, {"first", Value(i == 0)}, {"last", Value(i == n - 1)},
        {"length", Value(n)},            {"depth", Value(1)},       {"depth0", Value(0)},
    };
    if (i > 0) loop.emplace_back("previtem", items[static_cast<size_t>(i - 1)]);
    if (i + 1 < n) loop.emplace_back("nextitem", items[static_cast<size_t>(i + 1)]);
    auto cycle = std::make_shared<Callable>();
    cycle->name = "loop.cycle";
    cycle->fn = [i](Interpreter &, CallArgs &args) -> Value {
        if (args.positional.empty()) raise("no items for cycling given");
        return args.positional[static_cast<size_t>(i) % args.positional.size()];
    };
    loop.emplace_back("cycle", Value(CallablePtr(std::move(cycle))));
    return make_object(std::move(loop));
}

void Interpreter::assign(const Target &target, const Value &value, Frame &frame) {
    if (!target.attr.empty()) {
        Value ns = lookup(target.names[0]);
        if (!ns.is_namespace()) raise("cannot assign attribute on non-namespace object");
        NamespaceData &data = ns.as_namespace();
        if (Value *slot = data.find(target.attr)) *slot = value;
        else data.attrs.emplace_back(target.attr, value);
        return;
    }
    if (!target.tuple && target.names.size() == 1) {
        frame.vars[target.names[0]] = value;
        return;
    }
    std::vector<Value> parts = iterate(value);
    if (value.is_undefined()) raise("cannot unpack an undefined value");
    if (parts.size() != target.names.size())
        raise("{} values to unpack (expected {}, got {})", parts.size() > target.names.size() ? "too many" : "not enough",
              target.names.size(), parts.size());
    for (size_t k = 0; k < parts.size(); ++k) frame.vars[target.names[k]] = parts[k];
}

void Interpreter::exec_set(const Stmt &s) { assign(s.target, eval(*s.expr), *frame_); }

// A macro (or the `caller` of a call block) is a Callable that renders its body in a new
// frame whose parent is the frame it was defined in. The definition frame is held weakly:
// a macro stored in its own frame must not keep that frame alive forever.
Value Interpreter::make_macro(const Stmt &s, bool is_caller) {
    auto callable = std::make_shared<Callable>();
    callable->name = is_caller ? "caller" : s.name;
    std::weak_ptr<Frame> defined_in = frame_;
    const Stmt *stmt = &s;
    callable->fn = [stmt, defined_in](Interpreter &in, CallArgs &args) -> Value {
        if (in.call_depth_ >= in.limits_.max_call_depth)
            raise("macro calls nested deeper than {} levels", in.limits_.max_call_depth);
        ++in.call_depth_;
        struct Leave {
            int &d;
            ~Leave() { --d; }
        } leave{in.call_depth_};
        auto frame = std::make_shared<Frame>();
        frame->parent = defined_in.lock();
        if (!frame->parent) frame->parent = in.frame_;
        const auto &params = stmt->params;
        if (args.positional.size() > params.size())
            raise("macro '{}' takes not more than {} argument(s)", stmt->name, params.size());
        for (size_t k = 0; k < params.size(); ++k) {
            if (k < args.positional.size()) frame->vars[params[k].name] = args.positional[k];
        }
        for (auto &[key, val] : args.keyword) {
            bool known = key == "caller";
            for (const auto &p : params) known = known || p.name == key;
            if (!known) raise("macro '{}' has no argument named '{}'", stmt->name, key);
            frame->vars[key] = val;
        }
        // Defaults are evaluated at call time in the macro's own scope, as jinja2 does.
        std::swap(in.frame_, frame);
        try {
            for (const auto &p : params) {
                if (in.frame_->vars.count(p.name)) continue;
                in.frame_->vars[p.name] =
                    p.default_value ? in.eval(*p.default_value) : Value(Undefined{fmt::format("'{}' is undefined", p.name)});
            }
        } catch (...) {
            std::swap(in.frame_, frame);
            throw;
        }
        std::swap(in.frame_, frame);
        return Value(in.capture(stmt->body, frame));
    };
    return Value(CallablePtr(std::move(callable)));
}

// ---- expressions --------------------------------------------------------------------------

Value Interpreter::eval(const Expr &e) {
    DepthGuard guard(*this);
    try {
        return eval_inner(e);
    } catch (TemplateFailure &f) {
        if (f.offset == static_cast<size_t>(-1)) f.offset = e.offset;
        throw;
    }
}

CallArgs Interpreter::eval_args(const Expr &e) {
    CallArgs args;
    for (const auto &a : e.items) args.positional.push_back(eval(*a));
    for (const auto &[key, a] : e.keyword) args.keyword.emplace_back(key, eval(*a));
    return args;
}

Value Interpreter::call(const Value &callee, CallArgs &args) {
    if (callee.is_undefined()) raise("{}", callee.as_undefined().hint);
    if (!callee.is_callable()) raise("'{}' object is not callable", type_name(callee));
    step();
    return callee.as_callable().fn(*this, args);
}

Value Interpreter::eval_call(const Expr &e) {
    // obj.method(...) on str/list/dict goes straight to the method, without a bound object.
    if (e.a->kind == Expr::Kind::attr) {
        Value obj = eval(*e.a->a);
        if (has_method(obj, e.a->name)) {
            CallArgs args = eval_args(e);
            step();
            return call_method(*this, obj, e.a->name, args);
        }
        Value callee = get_attr(*this, obj, e.a->name);
        CallArgs args = eval_args(e);
        return call(callee, args);
    }
    Value callee = eval(*e.a);
    CallArgs args = eval_args(e);
    return call(callee, args);
}

Value Interpreter::eval_inner(const Expr &e) {
    switch (e.kind) {
    case Expr::Kind::literal: return e.value;
    case Expr::Kind::name: return lookup(e.name);
    case Expr::Kind::list:
    case Expr::Kind::tuple: {
        std::vector<Value> items;
        items.reserve(e.items.size());
        for (const auto &x : e.items) items.push_back(eval(*x));
        return make_array(std::move(items), e.kind == Expr::Kind::tuple);
    }
    case Expr::Kind::dict: {
        std::vector<std::pair<std::string, Value>> items;
        std::vector<Value> keys;
        bool plain = true;  // all keys are strings
        for (size_t k = 0; k + 1 < e.items.size(); k += 2) {
            Value key = eval(*e.items[k]);
            if (!key.is_string() && !key.is_number() && !key.is_none())
                raise("unhashable dict key of type '{}'", type_name(key));
            plain = plain && key.is_string();
            std::string name = key.is_string() ? key.as_string() : to_repr(key);
            Value val = eval(*e.items[k + 1]);
            bool replaced = false;
            for (size_t j = 0; j < items.size(); ++j) {
                if (items[j].first == name && equals(keys[j], key)) {
                    items[j].second = val;
                    replaced = true;
                }
            }
            if (!replaced) {
                items.emplace_back(std::move(name), std::move(val));
                keys.push_back(std::move(key));
            }
        }
        if (plain) keys.clear();
        return make_object(std::move(items), std::move(keys));
    }
    case Expr::Kind::attr: return get_attr(*this, eval(*e.a), e.name);
    case Expr::Kind::item: {
        Value obj = eval(*e.a);
        return get_item(*this, obj, eval(*e.b));
    }
    case Expr::Kind::slice: {
        Value obj = eval(*e.a);
        Value start = e.b ? eval(*e.b) : Value(None{});
        Value stop = e.c ? eval(*e.c) : Value(None{});
        Value stride = e.d ? eval(*e.d) : Value(None{});
        return get_slice(*this, obj, start, stop, stride);
    }
    case Expr::Kind::call: return eval_call(e);
    case Expr::Kind::filter: {
        Value v = e.a ? eval(*e.a) : block_value_;
        CallArgs args = eval_args(e);
        return apply_filter(*this, e.name, v, args);
    }
    case Expr::Kind::test: {
        Value v = eval(*e.a);
        CallArgs args = eval_args(e);
        return Value(apply_test(*this, e.name, v, args) != e.negated);
    }
    case Expr::Kind::unary: {
        Value v = eval(*e.a);
        if (e.name == "not") return Value(!truthy(v));
        if (v.is_undefined()) raise("{}", v.as_undefined().hint);
        if (!v.is_number()) raise("bad operand type for unary {}: '{}'", e.name, type_name(v));
        if (e.name == "+") return v.is_float() ? v : Value(v.is_bool() ? int64_t{v.as_bool()} : v.as_int());
        if (v.is_float()) return Value(-v.as_float());
        int64_t x = v.is_bool() ? v.as_bool() : v.as_int();
        if (x == INT64_MIN) raise("integer overflow");
        return Value(-x);
    }
    case Expr::Kind::binary: {
        if (e.name == "and") {
            Value a = eval(*e.a);
            return truthy(a) ? eval(*e.b) : a;
        }
        if (e.name == "or") {
            Value a = eval(*e.a);
            return truthy(a) ? a : eval(*e.b);
        }
        Value a = eval(*e.a);
        Value b = eval(*e.b);
        return binary_op(*this, e.name, a, b);
    }
    case Expr::Kind::concat: {
        std::string s;
        for (const auto &x : e.items) {
            s += to_str(eval(*x));
            check_string(s.size());
        }
        return Value(std::move(s));
    }
    case Expr::Kind::compare: {
        Value left = eval(*e.a);
        for (size_t k = 0; k < e.items.size(); ++k) {
            Value right = eval(*e.items[k]);
            if (!compare(e.names[k], left, right)) return Value(false);
            left = std::move(right);
        }
        return Value(true);
    }
    case Expr::Kind::conditional:
        if (truthy(eval(*e.a))) return eval(*e.b);
        return e.c ? eval(*e.c) : Value(Undefined{"the conditional expression had no else branch"});
    case Expr::Kind::block_value: return block_value_;
    }
    return Value();
}

}  // namespace ember::chat
