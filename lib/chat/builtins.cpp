// chat/builtins.cpp - jinja2's tests and globals, Python's str/list/dict methods, and the
// two string formatting mini-languages templates use (`%` and str.format).
#include "chat/builtins.hpp"

#include "chat/error.hpp"
#include "chat/strings.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace ember::chat {

namespace {

std::string text_of(const Value &v) { return to_str(v); }

int64_t int_of(const Value &v, std::string_view what) {
    if (v.is_int()) return v.as_int();
    if (v.is_bool()) return v.as_bool();
    raise("{} must be an integer, got {}", what, type_name(v));
}

bool all_cased(const std::string &s, bool upper_wanted) {
    bool any = false;
    for (char c : s) {
        if (c >= 'a' && c <= 'z') {
            if (upper_wanted) return false;
            any = true;
        } else if (c >= 'A' && c <= 'Z') {
            if (!upper_wanted) return false;
            any = true;
        }
    }
    return any;
}

// strftime over a broken-down time, C locale, implemented here so no format string can
// reach the C library's undefined cases.
std::string format_time(const DateTime &t, const std::string &f) {
    static constexpr std::array<const char *, 12> months = {"January", "February", "March",     "April",   "May",      "June",
                                                            "July",    "August",   "September", "October", "November", "December"};
    static constexpr std::array<const char *, 7> days = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
    if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31) raise("strftime_now: clock gave an invalid date");
    // Day of week (0 = Monday) and day of year from the civil date.
    auto days_from_civil = [](int y, int m, int d) {
        y -= m <= 2;
        int era = (y >= 0 ? y : y - 399) / 400;
        int yoe = y - era * 400;
        int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return static_cast<int64_t>(era) * 146097 + doe - 719468;
    };
    int64_t z = days_from_civil(t.year, t.month, t.day);
    int weekday = static_cast<int>(((z % 7) + 7 + 3) % 7);  // 1970-01-01 was a Thursday
    int yday = static_cast<int>(z - days_from_civil(t.year, 1, 1)) + 1;
    int hour12 = t.hour % 12 == 0 ? 12 : t.hour % 12;
    std::string out;
    for (size_t i = 0; i < f.size(); ++i) {
        if (f[i] != '%' || i + 1 == f.size()) {
            out += f[i];
            continue;
        }
        char c = f[++i];
        bool no_pad = false;
        if (c == '-' && i + 1 < f.size()) {  // glibc's %-d: no padding
            no_pad = true;
            c = f[++i];
        }
        auto num = [&](int v, int width) { out += no_pad ? std::to_string(v) : fmt::format("{:0{}d}", v, width); };
        switch (c) {
        case 'Y': out += std::to_string(t.year); break;
        case 'y': num(((t.year % 100) + 100) % 100, 2); break;
        case 'm': num(t.month, 2); break;
        case 'd': num(t.day, 2); break;
        case 'e': out += no_pad ? std::to_string(t.day) : fmt::format("{:2d}", t.day); break;
        case 'H': num(t.hour, 2); break;
        case 'I': num(hour12, 2); break;
        case 'M': num(t.minute, 2); break;
        case 'S': num(t.second, 2); break;
        case 'j': num(yday, 3); break;
        case 'p': out += t.hour < 12 ? "AM" : "PM"; break;
        case 'B': out += months[static_cast<size_t>(t.month - 1)]; break;
        case 'b':
        case 'h': out += std::string(months[static_cast<size_t>(t.month - 1)]).substr(0, 3); break;
        case 'A': out += days[static_cast<size_t>(weekday)]; break;
        case 'a': out += std::string(days[static_cast<size_t>(weekday)]).substr(0, 3); break;
        case 'u': out += std::to_string(weekday + 1); break;
        case 'w': out += std::to_string((weekday + 1) % 7); break;
        case 'F': out += fmt::format("{}-{:02d}-{:02d}", t.year, t.month, t.day); break;
        case 'T': out += fmt::format("{:02d}:{:02d}:{:02d}", t.hour, t.minute, t.second); break;
        case '%': out += '%'; break;
        default: raise("strftime_now: unsupported directive '%{}'", c);
        }
    }
    return out;
}

Value range_of(Interpreter &in, CallArgs &args) {
    int64_t start = 0, stop = 0, step = 1;
    size_t n = args.positional.size();
    if (n == 1) {
        stop = int_of(args.positional[0], "range stop");
    } else if (n == 2 || n == 3) {
        start = int_of(args.positional[0], "range start");
        stop = int_of(args.positional[1], "range stop");
        if (n == 3) step = int_of(args.positional[2], "range step");
    } else {
        raise("range expected 1 to 3 arguments, got {}", n);
    }
    if (step == 0) raise("range() arg 3 must not be zero");
    // Count first (in unsigned arithmetic, which cannot overflow here) so a huge range is
    // refused before it is built.
    uint64_t count = 0;
    if (step > 0 && start < stop)
        count = (static_cast<uint64_t>(stop) - static_cast<uint64_t>(start) - 1) / static_cast<uint64_t>(step) + 1;
    if (step < 0 && start > stop)
        count = (static_cast<uint64_t>(start) - static_cast<uint64_t>(stop) - 1) / (0 - static_cast<uint64_t>(step)) + 1;
    if (count > in.limits().max_list_items) in.check_list(SIZE_MAX);
    std::vector<Value> items;
    items.reserve(static_cast<size_t>(count));
    for (int64_t k = 0, v = start; k < static_cast<int64_t>(count); ++k, v += step) items.emplace_back(v);
    return make_array(std::move(items));
}

Value make_global(const char *name, std::function<Value(Interpreter &, CallArgs &)> fn) {
    auto c = std::make_shared<Callable>();
    c->name = name;
    c->fn = std::move(fn);
    return Value(CallablePtr(std::move(c)));
}

}  // namespace

std::optional<Value> global_function(std::string_view name) {
    if (name == "range") return make_global("range", range_of);
    if (name == "raise_exception")
        return make_global("raise_exception", [](Interpreter &, CallArgs &args) -> Value {
            TemplateFailure f{text_of(arg(args, 0, "message"))};
            f.raised = true;
            throw f;
        });
    if (name == "strftime_now")
        return make_global("strftime_now", [](Interpreter &in, CallArgs &args) -> Value {
            return Value(format_time(in.now(), text_of(arg(args, 0, "format"))));
        });
    if (name == "namespace")
        return make_global("namespace", [](Interpreter &in, CallArgs &args) -> Value {
            NamespacePtr ns = in.new_namespace();
            for (const auto &p : args.positional) {  // namespace(some_dict)
                if (!p.is_object()) raise("namespace() positional argument must be a dict");
                for (const auto &kv : p.as_object().items) ns->attrs.push_back(kv);
            }
            for (const auto &kv : args.keyword) {
                if (Value *slot = ns->find(kv.first)) *slot = kv.second;
                else ns->attrs.push_back(kv);
            }
            return Value(ns);
        });
    if (name == "dict")
        return make_global("dict", [](Interpreter &, CallArgs &args) -> Value {
            std::vector<std::pair<std::string, Value>> items;
            for (const auto &p : args.positional) {
                if (!p.is_object()) raise("dict() positional argument must be a dict");
                items = p.as_object().items;
            }
            for (const auto &kv : args.keyword) {
                auto it = std::find_if(items.begin(), items.end(), [&](const auto &x) { return x.first == kv.first; });
                if (it != items.end()) it->second = kv.second;
                else items.push_back(kv);
            }
            return make_object(std::move(items));
        });
    return std::nullopt;
}

bool apply_test(Interpreter &in, std::string_view name, const Value &v, CallArgs &args) {
    in.step();
    auto other = [&] { return arg(args, 0, "other"); };
    if (name == "defined") return !v.is_undefined();
    if (name == "undefined") return v.is_undefined();
    if (name == "none") return v.is_none();
    if (name == "boolean") return v.is_bool();
    if (name == "true") return v.is_bool() && v.as_bool();
    if (name == "false") return v.is_bool() && !v.as_bool();
    if (name == "integer") return v.is_int();
    if (name == "float") return v.is_float();
    if (name == "number") return v.is_number();
    if (name == "string") return v.is_string();
    if (name == "mapping") return v.is_object();
    if (name == "iterable" || name == "sequence")
        return v.is_undefined() || v.is_string() || v.is_array() || v.is_object();
    if (name == "callable") return v.is_callable();
    if (name == "lower") return v.is_string() && all_cased(v.as_string(), false);
    if (name == "upper") return v.is_string() && all_cased(v.as_string(), true);
    if (name == "escaped") return false;
    if (name == "odd" || name == "even" || name == "divisibleby") {
        if (!v.is_int() && !v.is_bool()) raise("test '{}' expects an integer, got {}", name, type_name(v));
        int64_t x = int_of(v, "value");
        if (name == "divisibleby") {
            int64_t d = int_of(arg(args, 0, "num"), "divisibleby argument");
            if (d == 0) raise("integer division or modulo by zero");
            return d == -1 || x % d == 0;
        }
        return (x % 2 != 0) == (name == "odd");
    }
    if (name == "eq" || name == "equalto" || name == "==") return equals(v, other());
    if (name == "ne" || name == "!=") return !equals(v, other());
    if (name == "lt" || name == "lessthan" || name == "<") return compare("<", v, other());
    if (name == "le" || name == "<=") return compare("<=", v, other());
    if (name == "gt" || name == "greaterthan" || name == ">") return compare(">", v, other());
    if (name == "ge" || name == ">=") return compare(">=", v, other());
    if (name == "in") return contains(arg(args, 0, "seq"), v);
    if (name == "sameas") {
        Value o = other();
        if (v.is_none() || v.is_bool() || v.is_undefined()) return v.kind() == o.kind() && equals(v, o);
        return v.kind() == o.kind() && equals(v, o) && !v.is_string() && (v.is_int() || v.is_callable() || v.is_namespace());
    }
    if (name == "filter" || name == "test") return v.is_string();
    raise("no test named '{}'", name);
}

// ---- methods ------------------------------------------------------------------------------

bool has_method(const Value &obj, std::string_view name) {
    static constexpr std::string_view str_methods[] = {
        "strip", "lstrip", "rstrip", "split", "rsplit", "startswith", "endswith", "replace", "upper", "lower",
        "title", "capitalize", "format", "count", "find", "rfind", "index", "join", "splitlines", "isdigit",
        "isalpha", "isalnum", "isspace", "islower", "isupper"};
    static constexpr std::string_view list_methods[] = {"count", "index"};
    static constexpr std::string_view dict_methods[] = {"get", "items", "keys", "values"};
    auto in_list = [&](const auto &list) { return std::find(std::begin(list), std::end(list), name) != std::end(list); };
    if (obj.is_string()) return in_list(str_methods);
    if (obj.is_array()) return in_list(list_methods);
    if (obj.is_object()) return in_list(dict_methods);
    return false;
}

namespace {

Value string_method(Interpreter &in, const std::string &s, std::string_view name, CallArgs &args) {
    charge_bytes(s.size());
    auto side = name == "lstrip" ? str::Side::left : name == "rstrip" ? str::Side::right : str::Side::both;
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
        Value chars = arg(args, 0, "chars", Value(None{}));
        if (chars.is_none()) return Value(str::strip(s, side));
        return Value(str::strip_chars(s, text_of(chars), side));
    }
    if (name == "split" || name == "rsplit") {
        Value sep = arg(args, 0, "sep", Value(None{}));
        int64_t maxsplit = int_of(arg(args, 1, "maxsplit", Value(-1)), "maxsplit");
        std::vector<std::string> parts;
        if (sep.is_none()) {
            parts = str::split_whitespace(s, name == "split" ? maxsplit : -1);
        } else {
            if (!sep.is_string()) raise("must be str or None, not {}", type_name(sep));
            if (sep.as_string().empty()) raise("empty separator");
            parts = name == "split" ? str::split(s, sep.as_string(), maxsplit) : str::rsplit(s, sep.as_string(), maxsplit);
        }
        in.check_list(parts.size());
        std::vector<Value> out(parts.begin(), parts.end());
        return make_array(std::move(out));
    }
    if (name == "startswith" || name == "endswith") {
        Value p = arg(args, 0, "prefix");
        std::vector<Value> options = p.is_array() ? p.as_array().items : std::vector<Value>{p};
        for (const auto &o : options) {
            if (!o.is_string()) raise("{} first arg must be str or a tuple of str, not {}", name, type_name(o));
            const std::string &x = o.as_string();
            bool hit = name == "startswith" ? s.compare(0, x.size(), x) == 0
                                            : s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
            if (hit) return Value(true);
        }
        return Value(false);
    }
    if (name == "replace") {
        std::string from = text_of(arg(args, 0, "old")), to = text_of(arg(args, 1, "new"));
        int64_t n = int_of(arg(args, 2, "count", Value(-1)), "count");
        if (to.size() > from.size()) in.check_string(s.size() + (str::count(s, from) + 1) * (to.size() - from.size()));
        return Value(str::replace(s, from, to, n));
    }
    if (name == "upper") return Value(str::upper(s));
    if (name == "lower") return Value(str::lower(s));
    if (name == "title") return Value(str::py_title(s));
    if (name == "capitalize") return Value(str::capitalize(s));
    if (name == "format") return Value(str_format(in, s, args));
    if (name == "count") return Value(static_cast<int64_t>(str::count(s, text_of(arg(args, 0, "sub")))));
    if (name == "find" || name == "rfind" || name == "index") {
        std::string sub = text_of(arg(args, 0, "sub"));
        size_t pos = name == "rfind" ? s.rfind(sub) : s.find(sub);
        if (pos == std::string::npos) {
            if (name == "index") raise("substring not found");
            return Value(-1);
        }
        return Value(static_cast<int64_t>(str::code_point_count(std::string_view(s).substr(0, pos))));
    }
    if (name == "join") {
        std::string out;
        bool first = true;
        for (const auto &item : iterate(arg(args, 0, "iterable"))) {
            if (!item.is_string()) raise("sequence item: expected str instance, {} found", type_name(item));
            if (!first) out += s;
            first = false;
            out += item.as_string();
            in.check_string(out.size());
        }
        return Value(std::move(out));
    }
    if (name == "splitlines") {
        std::vector<Value> out;
        std::string cur;
        for (size_t i = 0; i < s.size(); ++i) {
            if (s[i] == '\n' || s[i] == '\r') {
                if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
                out.emplace_back(std::exchange(cur, {}));
            } else {
                cur += s[i];
            }
        }
        if (!cur.empty()) out.emplace_back(cur);
        return make_array(std::move(out));
    }
    auto all = [&](auto pred) {
        if (s.empty()) return Value(false);
        for (char c : s)
            if (!pred(static_cast<unsigned char>(c))) return Value(false);
        return Value(true);
    };
    if (name == "isdigit") return all([](unsigned char c) { return c >= '0' && c <= '9'; });
    if (name == "isalpha") return all([](unsigned char c) { return std::isalpha(c) || c >= 0x80; });
    if (name == "isalnum") return all([](unsigned char c) { return std::isalnum(c) || c >= 0x80; });
    if (name == "isspace") return Value(!s.empty() && str::strip(s, str::Side::both).empty());
    if (name == "islower") return Value(all_cased(s, false));
    if (name == "isupper") return Value(all_cased(s, true));
    raise("'str' object has no attribute '{}'", name);
}

}  // namespace

Value call_method(Interpreter &in, const Value &obj, std::string_view name, CallArgs &args) {
    if (obj.is_string()) return string_method(in, obj.as_string(), name, args);
    if (obj.is_array()) {
        const auto &items = obj.as_array().items;
        Value x = arg(args, 0, "value");
        if (name == "count")
            return Value(static_cast<int64_t>(std::count_if(items.begin(), items.end(), [&](const Value &y) { return equals(x, y); })));
        for (size_t k = 0; k < items.size(); ++k)
            if (equals(items[k], x)) return Value(static_cast<int64_t>(k));
        raise("{} is not in list", to_repr(x));
    }
    if (obj.is_object()) {
        const auto &data = obj.as_object();
        if (name == "get") {
            Value key = arg(args, 0, "key");
            Value found = key.is_string() || !data.key_values.empty() ? get_item(in, obj, key) : Value();
            return found.is_undefined() ? arg(args, 1, "default", Value(None{})) : found;
        }
        std::vector<Value> out;
        for (size_t k = 0; k < data.items.size(); ++k) {
            if (name == "keys") out.push_back(data.key(k));
            else if (name == "values") out.push_back(data.items[k].second);
            else out.push_back(make_array({data.key(k), data.items[k].second}, true));
        }
        return make_array(std::move(out));
    }
    raise("'{}' object has no attribute '{}'", type_name(obj), name);
}

// ---- formatting ---------------------------------------------------------------------------

std::string percent_format(Interpreter &in, const std::string &f, const Value &values) {
    std::vector<Value> list = values.is_array() && values.as_array().tuple ? values.as_array().items : std::vector<Value>{values};
    size_t next = 0;
    std::string out;
    for (size_t i = 0; i < f.size(); ++i) {
        if (f[i] != '%') {
            out += f[i];
            continue;
        }
        if (++i >= f.size()) raise("incomplete format");
        Value v;
        if (f[i] == '(') {  // %(name)s with a dict
            size_t close = f.find(')', i);
            if (close == std::string::npos || !values.is_object()) raise("format requires a mapping");
            const Value *found = values.as_object().find(f.substr(i + 1, close - i - 1));
            if (!found) raise("KeyError: '{}'", f.substr(i + 1, close - i - 1));
            v = *found;
            i = close + 1;
        }
        std::string flags;
        while (i < f.size() && (f[i] == '-' || f[i] == '0' || f[i] == '+' || f[i] == ' ')) flags += f[i++];
        int width = 0, precision = -1;
        while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i])) && width < 10000) width = width * 10 + (f[i++] - '0');
        if (i < f.size() && f[i] == '.') {
            precision = 0;
            ++i;
            while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i])) && precision < 100) precision = precision * 10 + (f[i++] - '0');
        }
        if (i >= f.size()) raise("incomplete format");
        char conv = f[i];
        if (conv == '%') {
            out += '%';
            continue;
        }
        if (v.is_undefined()) {
            if (next >= list.size()) raise("not enough arguments for format string");
            v = list[next++];
        }
        std::string piece;
        if (conv == 's') piece = text_of(v);
        else if (conv == 'r') piece = to_repr(v);
        else if (conv == 'd' || conv == 'i') {
            if (!v.is_number()) raise("%d format: a number is required, not {}", type_name(v));
            piece = std::to_string(v.is_float() ? static_cast<int64_t>(v.as_float()) : v.is_bool() ? v.as_bool() : v.as_int());
        } else if (conv == 'f' || conv == 'F') {
            if (!v.is_number()) raise("%f format: a number is required, not {}", type_name(v));
            piece = fmt::format("{:.{}f}", v.number(), precision < 0 ? 6 : precision);
        } else {
            raise("unsupported format character '{}'", conv);
        }
        if (static_cast<int>(piece.size()) < width) {
            auto pad = static_cast<size_t>(width) - piece.size();
            if (flags.find('-') != std::string::npos) piece += std::string(pad, ' ');
            else piece = std::string(pad, flags.find('0') != std::string::npos && conv != 's' ? '0' : ' ') + piece;
        }
        out += piece;
        in.check_string(out.size());
    }
    if (next < list.size() && !values.is_object()) raise("not all arguments converted during string formatting");
    return out;
}

std::string str_format(Interpreter &in, const std::string &f, const CallArgs &args) {
    std::string out;
    size_t auto_index = 0;
    for (size_t i = 0; i < f.size(); ++i) {
        char c = f[i];
        if (c == '}') {
            if (i + 1 < f.size() && f[i + 1] == '}') ++i;
            else raise("Single '{}' encountered in format string", '}');
            out += '}';
            continue;
        }
        if (c != '{') {
            out += c;
            continue;
        }
        if (i + 1 < f.size() && f[i + 1] == '{') {
            out += '{';
            ++i;
            continue;
        }
        size_t close = f.find('}', i);
        if (close == std::string::npos) raise("Single '{}' encountered in format string", '{');
        std::string field = f.substr(i + 1, close - i - 1);
        i = close;
        char conversion = 0;
        if (auto bang = field.find('!'); bang != std::string::npos) {
            conversion = bang + 1 < field.size() ? field[bang + 1] : 0;
            field.resize(bang);
        }
        if (field.find(':') != std::string::npos) raise("str.format: format specs are not supported");
        Value v;
        if (field.empty()) {
            if (auto_index >= args.positional.size()) raise("Replacement index {} out of range", auto_index);
            v = args.positional[auto_index++];
        } else if (std::all_of(field.begin(), field.end(), [](char d) { return d >= '0' && d <= '9'; })) {
            size_t k = field.size() < 9 ? std::stoul(field) : SIZE_MAX;
            if (k >= args.positional.size()) raise("Replacement index {} out of range", field);
            v = args.positional[k];
        } else {
            v = arg(args, SIZE_MAX, field, Value(Undefined{fmt::format("KeyError: '{}'", field)}));
            if (v.is_undefined()) raise("KeyError: '{}'", field);
        }
        out += conversion == 'r' ? to_repr(v) : text_of(v);
        in.check_string(out.size());
    }
    return out;
}

}  // namespace ember::chat
