// chat/filters.cpp - jinja2's built-in filters (and Hugging Face's tojson).
#include "chat/builtins.hpp"
#include "chat/error.hpp"
#include "chat/strings.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace ember::chat {

std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&#34;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

Value arg(const CallArgs &args, size_t index, std::string_view name, Value fallback) {
    if (index < args.positional.size()) return args.positional[index];
    for (const auto &[key, v] : args.keyword)
        if (key == name) return v;
    return fallback;
}

namespace {

using Items = std::vector<Value>;

std::string text_of(const Value &v) { return to_str(v); }  // jinja's soft_str: undefined -> ""

int64_t int_arg(const Value &v, std::string_view what) {
    if (v.is_int()) return v.as_int();
    if (v.is_bool()) return v.as_bool();
    raise("{} must be an integer, got {}", what, type_name(v));
}

// `attribute` arguments may be dotted ("function.name") and use integers for list items.
Value attribute_path(Interpreter &in, const Value &v, const std::string &path) {
    Value cur = v;
    for (const auto &part : str::split(path, ".")) {
        bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (numeric && part.size() < 18) cur = get_item(in, cur, Value(static_cast<int64_t>(std::stoll(part))));
        else cur = get_item(in, cur, Value(part));
        if (cur.is_undefined()) return cur;
    }
    return cur;
}

// Sort key for sort/dictsort/unique: strings compare case-insensitively unless asked not to.
Value fold(const Value &v, bool case_sensitive) {
    if (!case_sensitive && v.is_string()) return Value(str::lower(v.as_string()));
    return v;
}

Items sorted(Items items, const std::function<Value(const Value &)> &key, bool reverse) {
    std::vector<std::pair<Value, size_t>> keyed;
    for (size_t k = 0; k < items.size(); ++k) keyed.emplace_back(key(items[k]), k);
    std::stable_sort(keyed.begin(), keyed.end(), [&](const auto &x, const auto &y) {
        return reverse ? less(y.first, x.first) : less(x.first, y.first);
    });
    Items out;
    for (const auto &kv : keyed) out.push_back(items[kv.second]);
    return out;
}

// select/reject/selectattr/rejectattr share one walk: test each item (or its attribute).
Value select_items(Interpreter &in, const Value &v, CallArgs &args, bool with_attr, bool keep_matching) {
    size_t first_test_arg = with_attr ? 1 : 0;
    std::string attr = with_attr ? text_of(arg(args, 0, "attribute")) : "";
    Value test_name = arg(args, first_test_arg, "");
    CallArgs test_args;
    for (size_t k = first_test_arg + 1; k < args.positional.size(); ++k) test_args.positional.push_back(args.positional[k]);
    Items out;
    if (!truthy(v)) return make_array({});  // jinja2 yields nothing for none/empty
    for (const auto &item : iterate(v)) {
        in.step();
        Value subject = with_attr ? attribute_path(in, item, attr) : item;
        bool hit = test_name.is_undefined() ? truthy(subject) : apply_test(in, text_of(test_name), subject, test_args);
        if (hit == keep_matching) out.push_back(item);
    }
    return make_array(std::move(out));
}

Value map_items(Interpreter &in, const Value &v, CallArgs &args) {
    Items out;
    if (!truthy(v)) return make_array({});  // jinja2 yields nothing for none/empty
    Value attribute = arg(args, 99, "attribute");
    if (!attribute.is_undefined()) {
        Value dflt = arg(args, 99, "default");
        for (const auto &item : iterate(v)) {
            in.step();
            Value x = attribute_path(in, item, text_of(attribute));
            out.push_back(x.is_undefined() && !dflt.is_undefined() ? dflt : x);
        }
        return make_array(std::move(out));
    }
    if (args.positional.empty()) raise("map requires a filter name or attribute=");
    std::string filter = text_of(args.positional[0]);
    CallArgs rest;
    rest.positional.assign(args.positional.begin() + 1, args.positional.end());
    rest.keyword = args.keyword;
    for (const auto &item : iterate(v)) {
        in.step();
        out.push_back(apply_filter(in, filter, item, rest));
    }
    return make_array(std::move(out));
}

std::vector<std::string> split_lines(const std::string &s) {
    std::vector<std::string> lines;
    std::string cur;
    for (size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '\n' || c == '\r' || c == '\v' || c == '\f' || (c >= '\x1c' && c <= '\x1e')) {
            if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
            lines.push_back(std::move(cur));
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) lines.push_back(std::move(cur));
    return lines;
}

Value indent(Interpreter &in, const Value &v, CallArgs &args) {
    Value width = arg(args, 0, "width", Value(4));
    std::string pad = width.is_string() ? width.as_string() : std::string(static_cast<size_t>(std::clamp<int64_t>(int_arg(width, "indent width"), 0, 1 << 20)), ' ');
    bool first = truthy(arg(args, 1, "first", Value(false)));
    bool blank = truthy(arg(args, 2, "blank", Value(false)));
    auto lines = split_lines(text_of(v) + "\n");  // jinja appends a newline for splitlines
    std::string out;
    for (size_t k = 0; k < lines.size(); ++k) {
        if (k > 0) {
            out += '\n';
            if (blank || !lines[k].empty()) out += pad;
        }
        out += lines[k];
        in.check_string(out.size());
    }
    if (first) out = pad + out;
    in.check_string(out.size());
    return Value(std::move(out));
}

Value round_filter(const Value &v, CallArgs &args) {
    if (!v.is_number()) raise("round expects a number, got {}", type_name(v));
    int64_t precision = int_arg(arg(args, 0, "precision", Value(0)), "round precision");
    std::string method = text_of(arg(args, 1, "method", Value("common")));
    double x = v.number();
    if (method == "common") {
        // Python's round(): the exact binary value correctly rounded, ties to even, which
        // is what printf's %.*f does.
        if (precision >= 0 && precision <= 300 && std::isfinite(x)) {
            char buf[512];
            std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(precision), x);
            return Value(std::strtod(buf, nullptr));
        }
        double scale = std::pow(10.0, static_cast<double>(std::clamp<int64_t>(precision, -300, 300)));
        return Value(std::nearbyint(x * scale) / scale);
    }
    double scale = std::pow(10.0, static_cast<double>(std::clamp<int64_t>(precision, -300, 300)));
    if (method == "floor") return Value(std::floor(x * scale) / scale);
    if (method == "ceil") return Value(std::ceil(x * scale) / scale);
    raise("method must be common, ceil or floor");
}

Value int_filter(const Value &v, CallArgs &args) {
    Value dflt = arg(args, 0, "default", Value(0));
    if (v.is_int()) return v;
    if (v.is_bool()) return Value(int64_t{v.as_bool()});
    if (v.is_float()) {
        double d = v.as_float();
        if (!std::isfinite(d) || std::fabs(d) > 9.2e18) return dflt;
        return Value(static_cast<int64_t>(d));
    }
    if (v.is_string()) {
        std::string s = str::strip(v.as_string(), str::Side::both);
        char *end = nullptr;
        errno = 0;
        long long i = std::strtoll(s.c_str(), &end, 10);
        if (!s.empty() && end && *end == '\0' && errno == 0) return Value(static_cast<int64_t>(i));
        double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && end && *end == '\0' && std::isfinite(d) && std::fabs(d) < 9.2e18) return Value(static_cast<int64_t>(d));
    }
    return dflt;
}

Value float_filter(const Value &v, CallArgs &args) {
    Value dflt = arg(args, 0, "default", Value(0.0));
    if (v.is_number()) return Value(v.number());
    if (v.is_string()) {
        std::string s = str::strip(v.as_string(), str::Side::both);
        char *end = nullptr;
        double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && end && *end == '\0') return Value(d);
    }
    return dflt;
}

Value length_of(const Value &v) {
    switch (v.kind()) {
    case Value::Kind::undefined: return Value(0);
    case Value::Kind::string: return Value(static_cast<int64_t>(str::code_point_count(v.as_string())));
    case Value::Kind::array: return Value(static_cast<int64_t>(v.as_array().items.size()));
    case Value::Kind::object: return Value(static_cast<int64_t>(v.as_object().items.size()));
    default: raise("object of type '{}' has no len()", type_name(v));
    }
}

Value join(Interpreter &in, const Value &v, CallArgs &args) {
    std::string sep = text_of(arg(args, 0, "d", Value("")));
    Value attr = arg(args, 1, "attribute");
    std::string out;
    bool first = true;
    for (const auto &item : iterate(v)) {
        if (!first) out += sep;
        first = false;
        out += text_of(attr.is_undefined() ? item : attribute_path(in, item, text_of(attr)));
        in.check_string(out.size());
    }
    return Value(std::move(out));
}

Value min_max(Interpreter &in, const Value &v, CallArgs &args, bool want_max) {
    bool cs = truthy(arg(args, 0, "case_sensitive", Value(false)));
    Value attr = arg(args, 1, "attribute");
    Items items = iterate(v);
    if (items.empty()) return Value(Undefined{"no items for min/max"});
    auto key = [&](const Value &x) { return fold(attr.is_undefined() ? x : attribute_path(in, x, text_of(attr)), cs); };
    Value best = items[0];
    for (size_t k = 1; k < items.size(); ++k) {
        bool better = want_max ? less(key(best), key(items[k])) : less(key(items[k]), key(best));
        if (better) best = items[k];
    }
    return best;
}

}  // namespace

Value apply_filter(Interpreter &in, std::string_view name, const Value &v, CallArgs &args) {
    in.step();
    if (v.is_string()) charge_bytes(v.as_string().size());
    if (name == "default" || name == "d") {
        bool boolean = truthy(arg(args, 1, "boolean", Value(false)));
        if (v.is_undefined() || (boolean && !truthy(v))) return arg(args, 0, "default_value", Value(""));
        return v;
    }
    if (name == "safe") return Value::markup(text_of(v));
    if (name == "string") return v.is_string() ? v : Value(text_of(v));
    if (name == "e" || name == "escape" || name == "forceescape") {
        if (v.is_markup() && name != "forceescape") return v;
        std::string s = html_escape(text_of(v));
        in.check_string(s.size());
        return Value::markup(std::move(s));
    }
    if (name == "tojson") {
        Value indent_v = arg(args, 0, "indent", Value(None{}));
        int indent_n = indent_v.is_none() ? -1 : static_cast<int>(std::clamp<int64_t>(int_arg(indent_v, "tojson indent"), 0, 64));
        bool sort_keys = truthy(arg(args, 3, "sort_keys", Value(false)));
        Value subject = v;
        if (sort_keys) subject = apply_filter(in, "__sort_keys", v, args);
        std::string s = to_json(subject, indent_n);
        in.check_string(s.size());
        return Value(std::move(s));
    }
    if (name == "__sort_keys") {  // deep key sort for tojson(sort_keys=true)
        if (v.is_array()) {
            Items out;
            for (const auto &x : v.as_array().items) out.push_back(apply_filter(in, name, x, args));
            return make_array(std::move(out), v.as_array().tuple);
        }
        if (!v.is_object()) return v;
        auto items = v.as_object().items;
        std::stable_sort(items.begin(), items.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
        for (auto &kv : items) kv.second = apply_filter(in, name, kv.second, args);
        return make_object(std::move(items));
    }
    if (name == "length" || name == "count") return length_of(v);
    if (name == "trim") {
        Value chars = arg(args, 0, "chars", Value(None{}));
        std::string s = text_of(v);
        return Value(chars.is_none() || chars.is_undefined() ? str::strip(s, str::Side::both)
                                                             : str::strip_chars(s, text_of(chars), str::Side::both));
    }
    if (name == "upper") return Value(str::upper(text_of(v)));
    if (name == "lower") return Value(str::lower(text_of(v)));
    if (name == "title") return Value(str::title(text_of(v)));
    if (name == "capitalize") return Value(str::capitalize(text_of(v)));
    if (name == "replace") {
        Value count_v = arg(args, 2, "count", Value(None{}));
        int64_t n = count_v.is_none() ? -1 : int_arg(count_v, "replace count");
        std::string s = text_of(v), from = text_of(arg(args, 0, "old")), to = text_of(arg(args, 1, "new"));
        // Bound the result before building it: every match may grow the string.
        if (to.size() > from.size()) {
            size_t hits = str::count(s, from);
            in.check_string(s.size() + hits * (to.size() - from.size()));
        }
        return Value(str::replace(s, from, to, n));
    }
    if (name == "join") return join(in, v, args);
    if (name == "first" || name == "last") {
        Items items = iterate(v);
        if (items.empty()) return Value(Undefined{"no first/last item of an empty sequence"});
        return name == "first" ? items.front() : items.back();
    }
    if (name == "items") {
        if (v.is_undefined()) return make_array({});
        if (!v.is_object()) raise("can only get item pairs from a mapping, not {}", type_name(v));
        Items out;
        const auto &data = v.as_object();
        for (size_t k = 0; k < data.items.size(); ++k) out.push_back(make_array({data.key(k), data.items[k].second}, true));
        return make_array(std::move(out));
    }
    if (name == "list") return make_array(iterate(v));
    if (name == "map") return map_items(in, v, args);
    if (name == "select" || name == "reject") return select_items(in, v, args, false, name == "select");
    if (name == "selectattr" || name == "rejectattr") return select_items(in, v, args, true, name == "selectattr");
    if (name == "unique") {
        bool cs = truthy(arg(args, 0, "case_sensitive", Value(false)));
        Value attr = arg(args, 1, "attribute");
        Items out, seen;
        for (const auto &item : iterate(v)) {
            in.step();
            Value key = fold(attr.is_undefined() ? item : attribute_path(in, item, text_of(attr)), cs);
            if (std::none_of(seen.begin(), seen.end(), [&](const Value &s) { return equals(s, key); })) {
                seen.push_back(key);
                out.push_back(item);
            }
        }
        return make_array(std::move(out));
    }
    if (name == "sort") {
        bool reverse = truthy(arg(args, 0, "reverse", Value(false)));
        bool cs = truthy(arg(args, 1, "case_sensitive", Value(false)));
        Value attr = arg(args, 2, "attribute");
        auto key = [&](const Value &x) { return fold(attr.is_undefined() ? x : attribute_path(in, x, text_of(attr)), cs); };
        return make_array(sorted(iterate(v), key, reverse));
    }
    if (name == "dictsort") {
        if (!v.is_object()) raise("dictsort expects a mapping, got {}", type_name(v));
        bool cs = truthy(arg(args, 0, "case_sensitive", Value(false)));
        std::string by = text_of(arg(args, 1, "by", Value("key")));
        bool reverse = truthy(arg(args, 2, "reverse", Value(false)));
        Items pairs;
        const auto &data = v.as_object();
        for (size_t k = 0; k < data.items.size(); ++k) pairs.push_back(make_array({data.key(k), data.items[k].second}, true));
        size_t pos = by == "value" ? 1 : 0;
        return make_array(sorted(pairs, [&](const Value &p) { return fold(p.as_array().items[pos], cs); }, reverse));
    }
    if (name == "reverse") {
        if (v.is_string()) {
            auto offs = str::code_point_offsets(v.as_string());
            std::string out;
            for (size_t k = offs.size() - 1; k > 0; --k) out.append(v.as_string(), offs[k - 1], offs[k] - offs[k - 1]);
            return Value(std::move(out));
        }
        Items items = iterate(v);
        std::reverse(items.begin(), items.end());
        return make_array(std::move(items));
    }
    if (name == "abs") {
        if (v.is_float()) return Value(std::fabs(v.as_float()));
        if (v.is_int() || v.is_bool()) {
            int64_t x = v.is_bool() ? v.as_bool() : v.as_int();
            if (x == INT64_MIN) raise("integer overflow");
            return Value(x < 0 ? -x : x);
        }
        raise("bad operand type for abs(): '{}'", type_name(v));
    }
    if (name == "int") return int_filter(v, args);
    if (name == "float") return float_filter(v, args);
    if (name == "round") return round_filter(v, args);
    if (name == "indent") return indent(in, v, args);
    if (name == "batch") {
        int64_t size = int_arg(arg(args, 0, "linecount"), "batch size");
        if (size <= 0) raise("batch size must be positive");
        Value fill = arg(args, 1, "fill_with", Value(None{}));
        Items out, cur;
        for (const auto &item : iterate(v)) {
            cur.push_back(item);
            if (static_cast<int64_t>(cur.size()) == size) out.push_back(make_array(std::exchange(cur, {})));
        }
        if (!cur.empty()) {
            if (!fill.is_none())
                while (static_cast<int64_t>(cur.size()) < size) cur.push_back(fill);
            out.push_back(make_array(std::move(cur)));
        }
        return make_array(std::move(out));
    }
    if (name == "sum") {
        Value attr = arg(args, 0, "attribute");
        Value total = arg(args, 1, "start", Value(0));
        for (const auto &item : iterate(v))
            total = binary_op(in, "+", total, attr.is_undefined() ? item : attribute_path(in, item, text_of(attr)));
        return total;
    }
    if (name == "min" || name == "max") return min_max(in, v, args, name == "max");
    if (name == "attr") return get_attr(in, v, text_of(arg(args, 0, "name")));
    if (name == "format") {
        Items values = args.positional;
        return Value(percent_format(in, text_of(v), values.size() == 1 ? values[0] : make_array(std::move(values), true)));
    }
    if (name == "wordcount") return Value(static_cast<int64_t>(str::split_whitespace(text_of(v)).size()));
    if (name == "center") {
        int64_t width = int_arg(arg(args, 0, "width", Value(80)), "center width");
        std::string s = text_of(v);
        auto n = static_cast<int64_t>(str::code_point_count(s));
        if (width <= n) return Value(s);
        in.check_string(static_cast<size_t>(width));
        auto total = static_cast<size_t>(width - n);
        size_t left = total / 2 + (total & static_cast<size_t>(width) & 1);
        return Value(std::string(left, ' ') + s + std::string(total - left, ' '));
    }
    raise("no filter named '{}'", name);
}

}  // namespace ember::chat
