package io.istio4j.adapters.stackdriver;

import static java.util.Objects.requireNonNull;

import io.istio4j.adapter.GoValues;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The subset of Go's {@code text/template} that log payload templates use, compiled once at config
 * time: text, {@code {{.var}}}, {@code {{or (.a) "-"}}}, {@code and}, {@code not}, {@code print},
 * string and number literals, parentheses, and the method {@code .Format "layout"} on a timestamp.
 * Anything else ({@code if}, {@code range}, pipes) is refused when the config is loaded, never at
 * request time. Values print as Go's {@code %v} ({@link GoValues#format}); a missing variable is
 * {@code <no value>} as in Go.
 *
 * <pre>{@code
 * PayloadTemplate t = PayloadTemplate.parse("{{or (.url) \"-\"}} {{.code}}");
 * t.render(Map.of("url", "/ratings", "code", 200L));   // "/ratings 200"
 * }</pre>
 */
final class PayloadTemplate {

  private static final ZoneId UTC = ZoneId.of("UTC");

  /** What rendering a missing variable prints, as Go does for a map. */
  static final String NO_VALUE = "<no value>";

  /** A compiled piece: text, or an expression to print. */
  private interface Node {
    Object eval(Map<String, Object> vars);
  }

  private final List<Node> nodes;

  private PayloadTemplate(List<Node> nodes) {
    this.nodes = nodes;
  }

  /** Compiles {@code text}; throws IllegalArgumentException naming the position and the problem. */
  static PayloadTemplate parse(String text) {
    requireNonNull(text, "text");
    List<Node> nodes = new ArrayList<>();
    int i = 0;
    while (i < text.length()) {
      int open = text.indexOf("{{", i);
      if (open < 0) {
        String rest = text.substring(i);
        nodes.add(v -> rest);
        break;
      }
      if (open > i) {
        String literal = text.substring(i, open);
        nodes.add(v -> literal);
      }
      int close = text.indexOf("}}", open + 2);
      if (close < 0) {
        throw new IllegalArgumentException("unclosed action at offset " + open + " (expected: '}}')");
      }
      String action = text.substring(open + 2, close).trim();
      if (action.startsWith("-")) {
        action = action.substring(1).trim();
      }
      if (action.endsWith("-")) {
        action = action.substring(0, action.length() - 1).trim();
      }
      Parser p = new Parser(action, open + 2);
      Node node = p.pipeline();
      p.expectEnd();
      nodes.add(node);
      i = close + 2;
    }
    return new PayloadTemplate(List.copyOf(nodes));
  }

  /** The text for one instance's variables. */
  String render(Map<String, Object> vars) {
    StringBuilder out = new StringBuilder(128);
    for (Node n : nodes) {
      Object value = n.eval(vars);
      out.append(value == null ? NO_VALUE : value instanceof String s ? s : GoValues.format(value));
    }
    return out.toString();
  }

  /** Go's truth: false, 0, "", nil and empty collections are false. */
  static boolean truthy(Object v) {
    if (v == null) {
      return false;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof String s) {
      return !s.isEmpty();
    }
    if (v instanceof Long l) {
      return l != 0;
    }
    if (v instanceof Integer n) {
      return n != 0;
    }
    if (v instanceof Double d) {
      return d != 0;
    }
    if (v instanceof Duration d) {
      return !d.isZero();
    }
    if (v instanceof Map<?, ?> m) {
      return !m.isEmpty();
    }
    if (v instanceof Collection<?> c) {
      return !c.isEmpty();
    }
    if (v instanceof byte[] b) {
      return b.length > 0;
    }
    return true;
  }

  /** A recursive-descent parser of one action. */
  private static final class Parser {
    private final String s;
    private final int base;
    private int pos;

    Parser(String s, int base) {
      this.s = s;
      this.base = base;
    }

    private IllegalArgumentException error(String what) {
      return new IllegalArgumentException(what + " at offset " + (base + pos) + " in '" + s + "'");
    }

    void expectEnd() {
      skipSpace();
      if (pos < s.length()) {
        throw error(s.charAt(pos) == '|' ? "pipes are not supported" : "unexpected '" + s.charAt(pos) + "'");
      }
    }

    private void skipSpace() {
      while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
        pos++;
      }
    }

    /** A command: a function with arguments, or a single operand possibly calling a method. */
    Node pipeline() {
      skipSpace();
      if (pos >= s.length()) {
        throw error("empty action");
      }
      if (Character.isLetter(s.charAt(pos))) {
        String name = identifier();
        List<Node> args = new ArrayList<>();
        while (true) {
          skipSpace();
          if (pos >= s.length() || s.charAt(pos) == ')' || s.charAt(pos) == '|') {
            break;
          }
          args.add(operand());
        }
        return function(name, List.copyOf(args));
      }
      Node first = operand();
      skipSpace();
      if (pos < s.length() && s.charAt(pos) != ')' && s.charAt(pos) != '|') {
        throw error("an operand cannot take arguments");
      }
      return first;
    }

    private Node function(String name, List<Node> args) {
      switch (name) {
        case "or" -> {
          requireArgs(name, args, 1);
          return v -> {
            Object last = null;
            for (Node a : args) {
              last = a.eval(v);
              if (truthy(last)) {
                return last;
              }
            }
            return last;
          };
        }
        case "and" -> {
          requireArgs(name, args, 1);
          return v -> {
            Object last = null;
            for (Node a : args) {
              last = a.eval(v);
              if (!truthy(last)) {
                return last;
              }
            }
            return last;
          };
        }
        case "not" -> {
          if (args.size() != 1) {
            throw error("not takes one argument, got " + args.size());
          }
          return v -> !truthy(args.get(0).eval(v));
        }
        case "print" -> {
          return v -> {
            StringBuilder b = new StringBuilder();
            for (Node a : args) {
              Object o = a.eval(v);
              b.append(o == null ? NO_VALUE : GoValues.format(o));
            }
            return b.toString();
          };
        }
        default -> throw error("unsupported function or keyword '" + name
            + "' (expected: or, and, not, print; if/range/with are not supported)");
      }
    }

    private void requireArgs(String name, List<Node> args, int min) {
      if (args.size() < min) {
        throw error(name + " needs at least " + min + " argument");
      }
    }

    private String identifier() {
      int start = pos;
      while (pos < s.length() && (Character.isLetterOrDigit(s.charAt(pos)) || s.charAt(pos) == '_')) {
        pos++;
      }
      return s.substring(start, pos);
    }

    private Node operand() {
      skipSpace();
      if (pos >= s.length()) {
        throw error("missing operand");
      }
      char c = s.charAt(pos);
      if (c == '(') {
        pos++;
        Node inner = pipeline();
        skipSpace();
        if (pos >= s.length() || s.charAt(pos) != ')') {
          throw error("unclosed '('");
        }
        pos++;
        return inner;
      }
      if (c == '"') {
        String literal = quoted();
        return v -> literal;
      }
      if (c == '-' || Character.isDigit(c)) {
        int start = pos;
        pos++;
        while (pos < s.length() && (Character.isDigit(s.charAt(pos)) || s.charAt(pos) == '.')) {
          pos++;
        }
        String number = s.substring(start, pos);
        Object value;
        try {
          value = number.contains(".") ? (Object) Double.parseDouble(number) : (Object) Long.parseLong(number);
        } catch (NumberFormatException e) {
          throw error("bad number '" + number + "'");
        }
        return v -> value;
      }
      if (c == '.') {
        return field();
      }
      throw error("unexpected '" + c + "'");
    }

    /** {@code .name}, {@code .name.Format "layout"} or {@code .} (every variable). */
    private Node field() {
      pos++; // '.'
      String name = identifier();
      if (name.isEmpty()) {
        return v -> v;
      }
      if (pos < s.length() && s.charAt(pos) == '.') {
        pos++;
        String method = identifier();
        if (!method.equals("Format")) {
          throw error("unsupported field or method '." + name + "." + method + "' (expected: .Format on a timestamp)");
        }
        skipSpace();
        if (pos >= s.length() || s.charAt(pos) != '"') {
          throw error(".Format needs a quoted Go time layout");
        }
        DateTimeFormatter format = GoTimeLayout.toFormatter(quoted());
        // A zone id (not just an offset), so that MST-style zone names (Go's UnixDate layout) print "UTC".
        return v -> v.get(name) instanceof Instant t ? format.format(t.atZone(UTC)) : null;
      }
      return v -> v.get(name);
    }

    private String quoted() {
      pos++; // opening quote
      StringBuilder b = new StringBuilder();
      while (pos < s.length() && s.charAt(pos) != '"') {
        char c = s.charAt(pos++);
        if (c == '\\' && pos < s.length()) {
          char e = s.charAt(pos++);
          b.append(switch (e) {
            case 'n' -> '\n';
            case 't' -> '\t';
            default -> e;
          });
        } else {
          b.append(c);
        }
      }
      if (pos >= s.length()) {
        throw error("unclosed string");
      }
      pos++;
      return b.toString();
    }
  }

  /** Go reference-time layouts ({@code 02/Jan/2006:15:04:05 -0700}) as java.time patterns. */
  static final class GoTimeLayout {
    private static final String[][] TOKENS = {
        {"January", "MMMM"}, {"Monday", "EEEE"}, {"2006", "yyyy"}, {"-07:00", "xxx"}, {"-0700", "xx"},
        {"Z07:00", "XXX"}, {"Z0700", "XX"}, {".000000000", ".SSSSSSSSS"}, {".000000", ".SSSSSS"},
        {".000", ".SSS"}, {"Jan", "MMM"}, {"Mon", "EEE"}, {"MST", "zzz"}, {"01", "MM"}, {"02", "dd"},
        {"_2", "ppd"}, {"15", "HH"}, {"03", "hh"}, {"04", "mm"}, {"05", "ss"}, {"06", "yy"}, {"PM", "a"},
    };

    private GoTimeLayout() {}

    static DateTimeFormatter toFormatter(String layout) {
      StringBuilder pattern = new StringBuilder();
      StringBuilder literal = new StringBuilder();
      int i = 0;
      outer:
      while (i < layout.length()) {
        for (String[] t : TOKENS) {
          if (layout.startsWith(t[0], i)) {
            flush(literal, pattern);
            pattern.append(t[1]);
            i += t[0].length();
            continue outer;
          }
        }
        literal.append(layout.charAt(i++));
      }
      flush(literal, pattern);
      return DateTimeFormatter.ofPattern(pattern.toString(), Locale.ROOT);
    }

    private static void flush(StringBuilder literal, StringBuilder pattern) {
      if (literal.length() > 0) {
        pattern.append('\'').append(literal.toString().replace("'", "''")).append('\'');
        literal.setLength(0);
      }
    }
  }
}
