// chat/ops.cpp - attribute/item/slice access, iteration and operators, with Python's rules.
#include "chat/builtins.hpp"
#include "chat/error.hpp"
#include "chat/interp.hpp"
#include "chat/strings.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>

namespace ember::chat {

namespace {

[[noreturn]] void fail_undefined(const Value &v) { raise("{}", v.as_undefined().hint); }

std::string object_name(const Value &v) {
    if (v.is_none()) return "None";
    return fmt::format("{} object", type_name(v) == "dict" ? "dict" : type_name(v));
}

Value bound_method(const Value &obj, const std::string &name) {
    auto c = std::make_shared<Callable>();
    c->name = fmt::format("{}.{}", type_name(obj), name);
    c->fn = [obj, name](Interpreter &in, CallArgs &args) { return call_method(in, obj, name, args); };
    return Value(CallablePtr(std::move(c)));
}

// Methods the immutable sandbox refuses; named in the error when a template calls one.
bool unsafe_method(const Value &obj, std::string_view name) {
    if (obj.is_array())
        return name == "append" || name == "extend" || name == "insert" || name == "pop" || name == "remove" ||
               name == "reverse" || name == "sort" || name == "clear";
    if (obj.is_object())
        return name == "pop" || name == "popitem" || name == "update" || name == "clear" || name == "setdefault";
    return false;
}

int64_t to_index(const Value &v) {
    if (v.is_bool()) return v.as_bool();
    return v.as_int();
}

}  // namespace

Value get_attr(Interpreter &, const Value &obj, const std::string &name) {
    if (obj.is_undefined()) fail_undefined(obj);
    if (obj.is_namespace()) {
        if (Value *v = obj.as_namespace().find(name)) return *v;
    } else if (has_method(obj, name)) {
        return bound_method(obj, name);
    } else if (unsafe_method(obj, name)) {
        return Value(Undefined{fmt::format("access to attribute '{}' of '{}' object is unsafe", name, type_name(obj))});
    } else if (obj.is_object()) {
        if (const Value *v = obj.as_object().find(name)) return *v;
    }
    return Value(Undefined{fmt::format("'{}' has no attribute '{}'", object_name(obj), name)});
}

Value get_item(Interpreter &in, const Value &obj, const Value &key) {
    if (obj.is_undefined()) fail_undefined(obj);
    if (obj.is_object() && key.is_string()) {
        if (const Value *v = obj.as_object().find(key.as_string())) return *v;
        return Value(Undefined{fmt::format("'dict object' has no attribute '{}'", key.as_string())});
    }
    if ((obj.is_array() || obj.is_string()) && (key.is_int() || key.is_bool())) {
        int64_t i = to_index(key);
        if (obj.is_array()) {
            const auto &items = obj.as_array().items;
            auto n = static_cast<int64_t>(items.size());
            if (i < 0) i += n;
            if (i >= 0 && i < n) return items[static_cast<size_t>(i)];
        } else {
            const std::string &s = obj.as_string();
            charge_bytes(s.size());
            auto offs = str::code_point_offsets(s);
            auto n = static_cast<int64_t>(offs.size()) - 1;
            if (i < 0) i += n;
            if (i >= 0 && i < n) {
                auto k = static_cast<size_t>(i);
                return Value(s.substr(offs[k], offs[k + 1] - offs[k]));
            }
        }
        return Value(Undefined{fmt::format("'{}' has no element {}", object_name(obj), to_index(key))});
    }
    if (key.is_string()) return get_attr(in, obj, key.as_string());
    if (obj.is_object() && !obj.as_object().key_values.empty()) {  // {0: 'a'}[0]
        const auto &data = obj.as_object();
        for (size_t k = 0; k < data.items.size(); ++k)
            if (equals(data.key_values[k], key)) return data.items[k].second;
    }
    return Value(Undefined{fmt::format("'{}' has no element {}", object_name(obj), to_repr(key))});
}

Value get_slice(Interpreter &, const Value &obj, const Value &start_v, const Value &stop_v, const Value &step_v) {
    if (obj.is_undefined()) fail_undefined(obj);
    auto as_opt = [](const Value &v, const char *what) -> std::optional<int64_t> {
        if (v.is_none() || v.is_undefined()) return std::nullopt;
        if (!v.is_int() && !v.is_bool()) raise("slice {} must be an integer or None", what);
        return to_index(v);
    };
    auto start = as_opt(start_v, "start"), stop = as_opt(stop_v, "stop"), stride = as_opt(step_v, "step");
    int64_t step = stride.value_or(1);
    if (step == 0) raise("slice step cannot be zero");

    std::vector<size_t> offs;
    int64_t n;
    if (obj.is_array()) {
        n = static_cast<int64_t>(obj.as_array().items.size());
    } else if (obj.is_string()) {
        charge_bytes(obj.as_string().size());
        offs = str::code_point_offsets(obj.as_string());
        n = static_cast<int64_t>(offs.size()) - 1;
    } else {
        raise("'{}' object is not subscriptable", type_name(obj));
    }
    // Python's slice.indices().
    auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
        if (!v) return dflt;
        int64_t x = *v;
        if (x < 0) x += n;
        if (step > 0) return std::clamp<int64_t>(x, 0, n);
        return std::clamp<int64_t>(x, -1, n - 1);
    };
    int64_t lo = clamp(start, step > 0 ? 0 : n - 1);
    int64_t hi = clamp(stop, step > 0 ? n : -1);
    std::vector<size_t> picks;
    for (int64_t i = lo; step > 0 ? i < hi : i > hi; i += step) picks.push_back(static_cast<size_t>(i));
    if (obj.is_array()) {
        std::vector<Value> out;
        out.reserve(picks.size());
        for (size_t i : picks) out.push_back(obj.as_array().items[i]);
        return make_array(std::move(out), obj.as_array().tuple);
    }
    std::string out;
    const std::string &s = obj.as_string();
    for (size_t i : picks) out.append(s, offs[i], offs[i + 1] - offs[i]);
    return Value(std::move(out));
}

std::vector<Value> iterate(const Value &v) {
    if (v.is_array()) charge(v.as_array().items.size());
    if (v.is_object()) charge(v.as_object().items.size());
    if (v.is_string()) charge(v.as_string().size());
    switch (v.kind()) {
    case Value::Kind::undefined: return {};
    case Value::Kind::array: return v.as_array().items;
    case Value::Kind::object: {
        std::vector<Value> keys;
        const auto &data = v.as_object();
        for (size_t k = 0; k < data.items.size(); ++k) keys.push_back(data.key(k));
        return keys;
    }
    case Value::Kind::string: {
        const std::string &s = v.as_string();
        auto offs = str::code_point_offsets(s);
        std::vector<Value> chars;
        for (size_t k = 0; k + 1 < offs.size(); ++k) chars.emplace_back(s.substr(offs[k], offs[k + 1] - offs[k]));
        return chars;
    }
    default: raise("'{}' object is not iterable", type_name(v));
    }
}

bool contains(const Value &container, const Value &item) {
    switch (container.kind()) {
    case Value::Kind::undefined: return false;
    case Value::Kind::string:
        if (!item.is_string()) raise("'in <string>' requires string as left operand, not {}", type_name(item));
        charge_bytes(container.as_string().size());
        return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::array:
        for (const auto &x : container.as_array().items)
            if (equals(x, item)) return true;
        return false;
    case Value::Kind::object:
        charge(container.as_object().items.size());
        if (!container.as_object().key_values.empty()) {
            for (const auto &key : container.as_object().key_values)
                if (equals(key, item)) return true;
            return false;
        }
        return item.is_string() && container.as_object().find(item.as_string()) != nullptr;
    default: raise("argument of type '{}' is not iterable", type_name(container));
    }
}

bool compare(std::string_view op, const Value &a, const Value &b) {
    if (op == "==") return equals(a, b);
    if (op == "!=") return !equals(a, b);
    if (op == "in") return contains(b, a);
    if (op == "not in") return !contains(b, a);
    if (a.is_undefined()) fail_undefined(a);
    if (b.is_undefined()) fail_undefined(b);
    if (op == "<") return less(a, b);
    if (op == ">") return less(b, a);
    if (op == "<=") return !less(b, a);
    if (op == ">=") return !less(a, b);
    raise("unknown comparison '{}'", op);
}

namespace {

int64_t int_of(const Value &v) { return v.is_bool() ? int64_t{v.as_bool()} : v.as_int(); }

Value int_arith(std::string_view op, int64_t x, int64_t y) {
    int64_t r = 0;
    if (op == "+") {
        if (__builtin_add_overflow(x, y, &r)) raise("integer overflow");
        return Value(r);
    }
    if (op == "-") {
        if (__builtin_sub_overflow(x, y, &r)) raise("integer overflow");
        return Value(r);
    }
    if (op == "*") {
        if (__builtin_mul_overflow(x, y, &r)) raise("integer overflow");
        return Value(r);
    }
    if (op == "/") {
        if (y == 0) raise("division by zero");
        return Value(static_cast<double>(x) / static_cast<double>(y));
    }
    if (op == "//" || op == "%") {
        if (y == 0) raise("integer division or modulo by zero");
        if (x == INT64_MIN && y == -1) raise("integer overflow");
        int64_t q = x / y, m = x % y;
        if (m != 0 && ((m < 0) != (y < 0))) {  // Python floors toward negative infinity
            q -= 1;
            m += y;
        }
        return op == "//" ? Value(q) : Value(m);
    }
    if (op == "**") {
        if (y < 0) return Value(std::pow(static_cast<double>(x), static_cast<double>(y)));
        int64_t result = 1, base = x;
        for (int64_t e = y; e > 0; e >>= 1) {
            if (e & 1)
                if (__builtin_mul_overflow(result, base, &result)) raise("integer overflow");
            if (e > 1 && __builtin_mul_overflow(base, base, &base)) raise("integer overflow");
        }
        return Value(result);
    }
    raise("unknown operator '{}'", op);
}

Value float_arith(std::string_view op, double x, double y) {
    if (op == "+") return Value(x + y);
    if (op == "-") return Value(x - y);
    if (op == "*") return Value(x * y);
    if (op == "/") {
        if (y == 0) raise("float division by zero");
        return Value(x / y);
    }
    if (op == "//" || op == "%") {
        if (y == 0) raise("float modulo");
        double m = std::fmod(x, y);
        if (m != 0 && ((m < 0) != (y < 0))) m += y;
        if (op == "%") return Value(m);
        return Value(std::floor((x - m) / y + 0.5));
    }
    if (op == "**") return Value(std::pow(x, y));
    raise("unknown operator '{}'", op);
}

// n * times, saturating (the caller's limit check then refuses it).
size_t checked_size(size_t n, int64_t times) {
    size_t r;
    if (__builtin_mul_overflow(n, static_cast<size_t>(times), &r)) return SIZE_MAX;
    return r;
}

Value repeat(Interpreter &in, const Value &seq, int64_t times) {
    if (times < 0) times = 0;
    if (seq.is_string()) {
        const std::string &s = seq.as_string();
        auto total = checked_size(s.size(), times);
        in.check_string(total);
        charge_bytes(total);
        std::string out;
        out.reserve(total);
        for (int64_t k = 0; k < times; ++k) out += s;
        return Value(std::move(out));
    }
    const auto &items = seq.as_array().items;
    in.check_list(checked_size(items.size(), times));
    std::vector<Value> out;
    for (int64_t k = 0; k < times; ++k) out.insert(out.end(), items.begin(), items.end());
    return make_array(std::move(out), seq.as_array().tuple);
}

}  // namespace

Value binary_op(Interpreter &in, std::string_view op, const Value &a, const Value &b) {
    if (a.is_undefined()) fail_undefined(a);
    if (b.is_undefined()) fail_undefined(b);
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return float_arith(op, a.number(), b.number());
        return int_arith(op, int_of(a), int_of(b));
    }
    if (op == "+") {
        if (a.is_string() && b.is_string()) {
            in.check_string(a.as_string().size() + b.as_string().size());
            if (a.is_markup() || b.is_markup()) {  // Markup + str escapes the plain side
                std::string x = a.is_markup() ? a.as_string() : html_escape(a.as_string());
                std::string y = b.is_markup() ? b.as_string() : html_escape(b.as_string());
                in.check_string(x.size() + y.size());
                return Value::markup(x + y);
            }
            return Value(a.as_string() + b.as_string());
        }
        if (a.is_array() && b.is_array() && a.as_array().tuple == b.as_array().tuple) {
            in.check_list(a.as_array().items.size() + b.as_array().items.size());
            std::vector<Value> items = a.as_array().items;
            items.insert(items.end(), b.as_array().items.begin(), b.as_array().items.end());
            return make_array(std::move(items), a.as_array().tuple);
        }
    }
    if (op == "*") {
        if ((a.is_string() || a.is_array()) && (b.is_int() || b.is_bool())) return repeat(in, a, int_of(b));
        if ((b.is_string() || b.is_array()) && (a.is_int() || a.is_bool())) return repeat(in, b, int_of(a));
    }
    if (op == "%" && a.is_string()) return Value(percent_format(in, a.as_string(), b));
    raise("unsupported operand type(s) for {}: '{}' and '{}'", op, type_name(a), type_name(b));
}

}  // namespace ember::chat
