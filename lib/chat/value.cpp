// chat/value.cpp - Python semantics of template values: truthiness, equality, str/repr, JSON.
#include "chat/value.hpp"

#include "chat/error.hpp"
#include "chat/strings.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstring>

namespace ember::chat {

namespace {
thread_local WorkBudget *current_budget = nullptr;
}

WorkBudget::WorkBudget(uint64_t units, size_t max_string)
    : remaining_(units), max_string_(max_string), previous_(current_budget) {
    current_budget = this;
}
WorkBudget::~WorkBudget() { current_budget = previous_; }

void charge(uint64_t units) {
    WorkBudget *b = current_budget;
    if (!b) return;
    if (units > b->remaining_) {
        b->remaining_ = 0;
        raise("template exceeded its work budget (values too large to walk)");
    }
    b->remaining_ -= units;
}

void check_built(size_t bytes) {
    WorkBudget *b = current_budget;
    if (b && bytes > b->max_string_) raise("template built a string over the {}-byte limit", b->max_string_);
}

const Value *ObjectData::find(std::string_view key) const {
    charge(items.size() / 16);
    for (const auto &kv : items)
        if (kv.first == key) return &kv.second;
    return nullptr;
}

Value ObjectData::key(size_t i) const {
    if (!key_values.empty()) return key_values[i];
    return Value(items[i].first);
}

Value *NamespaceData::find(std::string_view key) {
    for (auto &kv : attrs)
        if (kv.first == key) return &kv.second;
    return nullptr;
}

double Value::number() const {
    switch (kind()) {
    case Kind::boolean: return as_bool() ? 1.0 : 0.0;
    case Kind::integer: return static_cast<double>(as_int());
    case Kind::floating: return as_float();
    default: return 0.0;
    }
}

int Value::depth() const {
    if (is_array()) return as_array().depth;
    if (is_object()) return as_object().depth;
    return 1;
}

Value make_array(std::vector<Value> items, bool tuple) {
    charge(items.size() + 1);
    auto data = std::make_shared<ArrayData>();
    int depth = 1;
    for (const auto &v : items) depth = std::max(depth, v.depth() + 1);
    if (depth > max_value_depth) raise("list nested deeper than {} levels", max_value_depth);
    data->items = std::move(items);
    data->tuple = tuple;
    data->depth = depth;
    return Value(ArrayPtr(std::move(data)));
}

Value make_object(std::vector<std::pair<std::string, Value>> items, std::vector<Value> key_values) {
    charge(items.size() + 1);
    auto data = std::make_shared<ObjectData>();
    int depth = 1;
    for (const auto &kv : items) depth = std::max(depth, kv.second.depth() + 1);
    if (depth > max_value_depth) raise("dict nested deeper than {} levels", max_value_depth);
    data->items = std::move(items);
    data->key_values = std::move(key_values);
    data->depth = depth;
    return Value(ObjectPtr(std::move(data)));
}

bool truthy(const Value &v) {
    switch (v.kind()) {
    case Value::Kind::undefined:
    case Value::Kind::none: return false;
    case Value::Kind::boolean: return v.as_bool();
    case Value::Kind::integer: return v.as_int() != 0;
    case Value::Kind::floating: return v.as_float() != 0.0;
    case Value::Kind::string: return !v.as_string().empty();
    case Value::Kind::array: return !v.as_array().items.empty();
    case Value::Kind::object: return !v.as_object().items.empty();
    case Value::Kind::callable:
    case Value::Kind::ns: return true;
    }
    return false;
}

std::string_view type_name(const Value &v) {
    switch (v.kind()) {
    case Value::Kind::undefined: return "Undefined";
    case Value::Kind::none: return "NoneType";
    case Value::Kind::boolean: return "bool";
    case Value::Kind::integer: return "int";
    case Value::Kind::floating: return "float";
    case Value::Kind::string: return "str";
    case Value::Kind::array: return v.as_array().tuple ? "tuple" : "list";
    case Value::Kind::object: return "dict";
    case Value::Kind::callable: return "function";
    case Value::Kind::ns: return "Namespace";
    }
    return "?";
}

bool equals(const Value &a, const Value &b) {
    charge(1);
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return a.number() == b.number();
        int64_t x = a.is_bool() ? a.as_bool() : a.as_int();
        int64_t y = b.is_bool() ? b.as_bool() : b.as_int();
        return x == y;
    }
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
    case Value::Kind::undefined:
    case Value::Kind::none: return true;
    case Value::Kind::string: charge_bytes(a.as_string().size()); return a.as_string() == b.as_string();
    case Value::Kind::array: {
        const auto &x = a.as_array(), &y = b.as_array();
        if (&x == &y) return true;  // the same list (shared parts are common)
        if (x.tuple != y.tuple || x.items.size() != y.items.size()) return false;
        for (size_t i = 0; i < x.items.size(); ++i)
            if (!equals(x.items[i], y.items[i])) return false;
        return true;
    }
    case Value::Kind::object: {
        const auto &x = a.as_object(), &y = b.as_object();
        if (&x == &y) return true;
        if (x.items.size() != y.items.size()) return false;
        for (const auto &kv : x.items) {
            const Value *other = y.find(kv.first);
            if (!other || !equals(kv.second, *other)) return false;
        }
        return true;
    }
    case Value::Kind::callable: return &a.as_callable() == &b.as_callable();
    case Value::Kind::ns: return a.namespace_ptr() == b.namespace_ptr();
    default: return false;
    }
}

bool less(const Value &a, const Value &b) {
    charge(1);
    if (a.is_number() && b.is_number()) {
        if (a.is_float() || b.is_float()) return a.number() < b.number();
        int64_t x = a.is_bool() ? a.as_bool() : a.as_int();
        int64_t y = b.is_bool() ? b.as_bool() : b.as_int();
        return x < y;
    }
    if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();  // UTF-8 order = code point order
    if (a.is_array() && b.is_array()) {
        const auto &x = a.as_array().items, &y = b.as_array().items;
        for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
            if (equals(x[i], y[i])) continue;
            return less(x[i], y[i]);
        }
        return x.size() < y.size();
    }
    raise("'<' not supported between instances of '{}' and '{}'", type_name(a), type_name(b));
}

std::string format_float(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
    // Shortest round-trip digits, then laid out as Python's repr does: positional for
    // decimal exponents in [-4, 16), scientific otherwise.
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
    bool neg = !sci.empty() && sci[0] == '-';
    if (neg) sci.remove_prefix(1);
    size_t e_pos = sci.find('e');
    std::string digits;
    for (char c : sci.substr(0, e_pos))
        if (c != '.') digits += c;
    int exp = std::atoi(std::string(sci.substr(e_pos + 1)).c_str());
    std::string out = neg ? "-" : "";
    const auto n = static_cast<int>(digits.size());
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            out.append("0.").append(static_cast<size_t>(-exp - 1), '0').append(digits);
        } else if (exp + 1 >= n) {
            out.append(digits).append(static_cast<size_t>(exp + 1 - n), '0').append(".0");
        } else {
            out.append(digits, 0, static_cast<size_t>(exp + 1)).append(".").append(digits, static_cast<size_t>(exp + 1));
        }
        return out;
    }
    out.append(digits, 0, 1);
    if (n > 1) out.append(".").append(digits, 1);
    out += fmt::format("e{}{:02d}", exp < 0 ? '-' : '+', std::abs(exp));
    return out;
}

namespace {

void repr_into(std::string &out, const Value &v) {
    charge(1);
    check_built(out.size());
    switch (v.kind()) {
    case Value::Kind::undefined: break;
    case Value::Kind::none: out += "None"; break;
    case Value::Kind::boolean: out += v.as_bool() ? "True" : "False"; break;
    case Value::Kind::integer: out += std::to_string(v.as_int()); break;
    case Value::Kind::floating: out += format_float(v.as_float()); break;
    case Value::Kind::string: out += str::repr(v.as_string()); break;
    case Value::Kind::array: {
        const auto &a = v.as_array();
        out += a.tuple ? '(' : '[';
        for (size_t i = 0; i < a.items.size(); ++i) {
            if (i) out += ", ";
            repr_into(out, a.items[i]);
        }
        if (a.tuple && a.items.size() == 1) out += ',';
        out += a.tuple ? ')' : ']';
        break;
    }
    case Value::Kind::object: {
        out += '{';
        bool first = true;
        const auto &obj = v.as_object();
        for (size_t k = 0; k < obj.items.size(); ++k) {
            const auto &kv = obj.items[k];
            if (!first) out += ", ";
            first = false;
            out += obj.key_values.empty() ? str::repr(kv.first) : to_repr(obj.key_values[k]);
            out += ": ";
            repr_into(out, kv.second);
        }
        out += '}';
        break;
    }
    case Value::Kind::callable: out += fmt::format("<function {}>", v.as_callable().name); break;
    case Value::Kind::ns: {
        // Printed shallowly: a namespace may hold itself, and repr must terminate.
        out += "<Namespace {";
        bool first = true;
        for (const auto &kv : v.as_namespace().attrs) {
            if (!first) out += ", ";
            first = false;
            out += str::repr(kv.first) + ": ";
            if (kv.second.is_namespace()) out += "<Namespace>";
            else repr_into(out, kv.second);
        }
        out += "}>";
        break;
    }
    }
}

void json_string(std::string &out, std::string_view s) {
    out += '"';
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c < 0x20) out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
            else out += ch;
        }
    }
    out += '"';
}

void json_into(std::string &out, const Value &v, int indent, int level) {
    charge(1);
    check_built(out.size());
    auto newline = [&](int lvl) {
        out += '\n';
        out.append(static_cast<size_t>(indent) * static_cast<size_t>(lvl), ' ');
    };
    switch (v.kind()) {
    case Value::Kind::none: out += "null"; break;
    case Value::Kind::boolean: out += v.as_bool() ? "true" : "false"; break;
    case Value::Kind::integer: out += std::to_string(v.as_int()); break;
    case Value::Kind::floating: {
        double d = v.as_float();
        if (std::isnan(d)) out += "NaN";
        else if (std::isinf(d)) out += d < 0 ? "-Infinity" : "Infinity";
        else out += format_float(d);
        break;
    }
    case Value::Kind::string: json_string(out, v.as_string()); break;
    case Value::Kind::array: {
        const auto &items = v.as_array().items;
        if (items.empty()) {
            out += "[]";
            break;
        }
        out += '[';
        for (size_t i = 0; i < items.size(); ++i) {
            if (i) out += indent >= 0 ? "," : ", ";
            if (indent >= 0) newline(level + 1);
            json_into(out, items[i], indent, level + 1);
        }
        if (indent >= 0) newline(level);
        out += ']';
        break;
    }
    case Value::Kind::object:
    case Value::Kind::ns: {
        if (v.is_namespace()) raise("Object of type Namespace is not JSON serializable");
        const auto &items = v.as_object().items;
        if (items.empty()) {
            out += "{}";
            break;
        }
        out += '{';
        bool first = true;
        const auto &obj = v.as_object();
        for (size_t k = 0; k < items.size(); ++k) {
            const auto &kv = items[k];
            if (!first) out += indent >= 0 ? "," : ", ";
            first = false;
            if (indent >= 0) newline(level + 1);
            if (obj.key_values.empty() || obj.key_values[k].is_string()) {
                json_string(out, kv.first);
            } else {  // json.dumps turns int/float/bool/None keys into their JSON text
                const Value &key = obj.key_values[k];
                if (!key.is_number() && !key.is_none()) raise("keys must be str, int, float, bool or None, not {}", type_name(key));
                out += '"';
                json_into(out, key, -1, 0);
                out += '"';
            }
            out += ": ";
            json_into(out, kv.second, indent, level + 1);
        }
        if (indent >= 0) newline(level);
        out += '}';
        break;
    }
    case Value::Kind::undefined: raise("Object of type Undefined is not JSON serializable");
    case Value::Kind::callable: raise("Object of type function is not JSON serializable");
    }
}

}  // namespace

std::string to_repr(const Value &v) {
    std::string out;
    repr_into(out, v);
    return out;
}

std::string to_str(const Value &v) {
    if (v.is_string()) return v.as_string();
    if (v.is_undefined()) return {};
    return to_repr(v);
}

std::string to_json(const Value &v, int indent) {
    std::string out;
    json_into(out, v, indent, 0);
    return out;
}

}  // namespace ember::chat
