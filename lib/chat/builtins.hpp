// chat/builtins.hpp - jinja2's filters, tests and globals, and the Python methods templates
// call on strings, lists and dicts.
#pragma once

#include "chat/interp.hpp"
#include "chat/value.hpp"

#include <optional>
#include <string_view>

namespace ember::chat {

// `value|name(args)`. Unknown filters fail ("no filter named 'x'").
Value apply_filter(Interpreter &in, std::string_view name, const Value &value, CallArgs &args);
// `value is name(args)`. Unknown tests fail ("no test named 'x'").
bool apply_test(Interpreter &in, std::string_view name, const Value &value, CallArgs &args);
// A global function (range, namespace, dict, raise_exception, strftime_now);
// nullopt if `name` is none of them.
std::optional<Value> global_function(std::string_view name);
// obj.name(args) for str, list and dict methods; nullopt when obj has no such method.
bool has_method(const Value &obj, std::string_view name);
Value call_method(Interpreter &in, const Value &obj, std::string_view name, CallArgs &args);

// markupsafe's escape: & < > " ' as entities.
std::string html_escape(std::string_view s);

// Argument access for builtins: positional index or keyword name, else the default.
Value arg(const CallArgs &args, size_t index, std::string_view name, Value fallback = Value());
// Python's printf-style `fmt % values` and str.format(), the common subset.
std::string percent_format(Interpreter &in, const std::string &fmt, const Value &values);
std::string str_format(Interpreter &in, const std::string &fmt, const CallArgs &args);

}  // namespace ember::chat
