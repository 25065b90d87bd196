// chat/value.hpp - the values a template computes with, shaped like Python's.
//
// Jinja runs on Python objects, and chat templates lean on Python's behaviour: truthiness,
// str()/repr() of lists and dicts, 1 == 1.0 == True, dict insertion order, code-point string
// lengths. Value models exactly the types JSON contexts and template literals produce, plus
// jinja's Undefined, callables (macros, globals, bound methods) and namespace(). Lists and
// dicts are immutable once built (the sandbox forbids mutating them), so they are shared by
// pointer and copying a Value is cheap; a namespace is the one mutable object.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ember::chat {

class Value;
class Interpreter;

// jinja's Undefined: prints as "", is falsy, iterates as empty; most other uses fail with
// `hint` ("'foo' is undefined").
struct Undefined {
    std::string hint;
};
struct None {};

struct ArrayData {
    std::vector<Value> items;
    bool tuple = false;  // prints as (a, b); otherwise behaves like a list
    int depth = 1;       // nesting depth, bounded so recursive walks cannot overflow the stack
};

struct ObjectData {
    std::vector<std::pair<std::string, Value>> items;  // insertion order, like Python's dict
    // Keys that are not strings ({0: 'a', 512: 'b'} in a template) are stored under their
    // repr; key_values then holds every key as its own value (empty when all are strings).
    std::vector<Value> key_values;
    int depth = 1;
    const Value *find(std::string_view key) const;
    Value key(size_t i) const;  // the i-th key as a value
};

// Keyword arguments keep their order for error messages; lookups are linear (calls are small).
struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;
};

struct Callable {
    std::string name;  // for messages and printing
    std::function<Value(Interpreter &, CallArgs &)> fn;
};

// namespace(): the one mutable object, so `{% set ns.x = ... %}` survives loop scopes.
struct NamespaceData {
    std::vector<std::pair<std::string, Value>> attrs;
    Value *find(std::string_view key);
};

using ArrayPtr = std::shared_ptr<const ArrayData>;
using ObjectPtr = std::shared_ptr<const ObjectData>;
using CallablePtr = std::shared_ptr<const Callable>;
using NamespacePtr = std::shared_ptr<NamespaceData>;

class Value {
public:
    enum class Kind : uint8_t { undefined, none, boolean, integer, floating, string, array, object, callable, ns };

    Value() : v_(Undefined{}) {}
    Value(Undefined u) : v_(std::move(u)) {}
    Value(None) : v_(None{}) {}
    Value(bool b) : v_(b) {}
    Value(int64_t i) : v_(i) {}
    Value(int i) : v_(int64_t{i}) {}
    Value(double d) : v_(d) {}
    Value(std::string s) : v_(std::move(s)) {}
    Value(std::string_view s) : v_(std::string(s)) {}
    Value(const char *s) : v_(std::string(s)) {}
    Value(ArrayPtr a) : v_(std::move(a)) {}
    Value(ObjectPtr o) : v_(std::move(o)) {}
    Value(CallablePtr c) : v_(std::move(c)) {}
    Value(NamespacePtr n) : v_(std::move(n)) {}

    Kind kind() const { return static_cast<Kind>(v_.index()); }
    bool is_undefined() const { return kind() == Kind::undefined; }
    bool is_none() const { return kind() == Kind::none; }
    bool is_bool() const { return kind() == Kind::boolean; }
    bool is_int() const { return kind() == Kind::integer; }  // bool is not an int here
    bool is_float() const { return kind() == Kind::floating; }
    bool is_number() const { return is_int() || is_float() || is_bool(); }
    bool is_string() const { return kind() == Kind::string; }
    bool is_array() const { return kind() == Kind::array; }
    bool is_object() const { return kind() == Kind::object; }
    bool is_callable() const { return kind() == Kind::callable; }
    bool is_namespace() const { return kind() == Kind::ns; }

    bool as_bool() const { return std::get<bool>(v_); }
    int64_t as_int() const { return std::get<int64_t>(v_); }
    double as_float() const { return std::get<double>(v_); }
    const std::string &as_string() const { return std::get<std::string>(v_); }
    const ArrayData &as_array() const { return *std::get<ArrayPtr>(v_); }
    const ObjectData &as_object() const { return *std::get<ObjectPtr>(v_); }
    const Callable &as_callable() const { return *std::get<CallablePtr>(v_); }
    NamespaceData &as_namespace() const { return *std::get<NamespacePtr>(v_); }
    const NamespacePtr &namespace_ptr() const { return std::get<NamespacePtr>(v_); }
    const Undefined &as_undefined() const { return std::get<Undefined>(v_); }

    // Python int(x)/float(x) of a number (bool counts as 0/1). Caller checks is_number().
    double number() const;
    int depth() const;  // nesting depth of lists/dicts (1 for scalars)

    // jinja's Markup: a string marked safe (|safe, |escape). Python's Markup + str escapes
    // the str, which templates meet as `"..."|safe + value`. Other operations drop the mark.
    bool is_markup() const { return markup_; }
    static Value markup(std::string s) {
        Value v(std::move(s));
        v.markup_ = true;
        return v;
    }

private:
    std::variant<Undefined, None, bool, int64_t, double, std::string, ArrayPtr, ObjectPtr, CallablePtr,
                 NamespacePtr>
        v_;
    bool markup_ = false;
};

// Deepest list/dict nesting a value may have; building a deeper one is a template error.
inline constexpr int max_value_depth = 128;

// Work accounting. Lists and dicts share their items, so a template can build a value whose
// tree is exponentially larger than its memory ([x, x] nested 100 times); walking it
// (printing, comparing, tojson) must still end. Each walk step, item copied and 64 bytes
// of string built or scanned costs one unit from the budget of the render running on this
// thread; an exhausted budget is a template error. Outside a render nothing is counted.
class WorkBudget {
public:
    // units: the work allowed; max_string: the longest string printing may build.
    WorkBudget(uint64_t units, size_t max_string);
    ~WorkBudget();
    WorkBudget(const WorkBudget &) = delete;
    WorkBudget &operator=(const WorkBudget &) = delete;

private:
    uint64_t remaining_;
    size_t max_string_;
    WorkBudget *previous_;
    friend void charge(uint64_t units);
    friend void check_built(size_t bytes);
};
void charge(uint64_t units);
// Fails when a string being built by printing (repr, tojson) passes the render's limit.
void check_built(size_t bytes);
inline void charge_bytes(size_t bytes) { charge(bytes / 64 + 1); }

// Builders that compute the nesting depth (and refuse values nested too deeply).
Value make_array(std::vector<Value> items, bool tuple = false);
Value make_object(std::vector<std::pair<std::string, Value>> items, std::vector<Value> key_values = {});

// Python's truthiness.
bool truthy(const Value &v);
// Python's type name ("str", "list", "dict", "int" ...), for messages.
std::string_view type_name(const Value &v);
// Python's == between values (1 == 1.0 == True; lists and dicts compare deeply).
bool equals(const Value &a, const Value &b);
// Python's < for numbers, strings and lists; fails with a template error for other pairs.
bool less(const Value &a, const Value &b);

// str(v) as jinja prints it ({{ v }}): strings as-is, undefined as "", others like repr.
std::string to_str(const Value &v);
// repr(v): 'quoted' strings, [1, 'a'], {'k': None}, (1, 2), True.
std::string to_repr(const Value &v);
// repr(float): shortest round-trip digits, "1.0", "1e+16", "inf", "nan".
std::string format_float(double d);
// Python's json.dumps(v, ensure_ascii=False, indent=indent) (indent < 0: compact with ", "
// and ": " separators, as Hugging Face's tojson produces). Fails on undefined and callables.
std::string to_json(const Value &v, int indent = -1);

}  // namespace ember::chat
