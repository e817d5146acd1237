package io.istio4j.mixer.expr;

import io.istio4j.adapter.GoValues;
import io.istio4j.adapter.ValueType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Parses Mixer expressions: the subset of Go expressions upstream accepted (it used Go's own
 * parser), mapped to prefix form as upstream did. Errors read as upstream's:
 * {@code unable to parse expression 'a = 2': 1:3: expected '==', found '='}.
 *
 * <p>Nothing here recurses deeper than {@link ExpressionCompiler#MAX_DEPTH}: chains of the
 * associative operators ({@code ||}, {@code &&}, {@code |}) become one n-ary call however long they
 * are, and every other way to nest (parentheses, unary operators, calls, indexes, selectors, chains
 * of other binary operators) counts towards the limit, so that the compiler and the evaluator,
 * which recurse over the tree, never run out of stack.
 */
final class Parser {

  private static final Map<String, String> BINARY = Map.ofEntries(
      Map.entry("==", "EQ"), Map.entry("!=", "NEQ"), Map.entry("||", "LOR"), Map.entry("&&", "LAND"),
      Map.entry("|", "OR"), Map.entry("<", "LSS"), Map.entry("<=", "LEQ"), Map.entry(">", "GTR"),
      Map.entry(">=", "GEQ"), Map.entry("+", "ADD"), Map.entry("-", "SUB"), Map.entry("*", "MUL"),
      Map.entry("/", "QUO"), Map.entry("%", "REM"), Map.entry("&", "AND"), Map.entry("^", "XOR"),
      Map.entry("<<", "SHL"), Map.entry(">>", "SHR"), Map.entry("&^", "AND_NOT"));

  private static final Map<String, String> UNARY = Map.of(
      "!", "NOT", "-", "SUB", "+", "ADD", "^", "XOR", "&", "AND", "<-", "ARROW");

  /**
   * Operators whose chains become one n-ary call: grouping does not change their result. {@code +}
   * is not in the language ({@code unknown function: ADD}), but a long sum should say so rather
   * than hit the depth limit.
   */
  private static final Set<String> CHAINED = Set.of("||", "&&", "|", "+");

  private enum Kind { IDENT, INT, FLOAT, IMAG, STRING, CHAR, OP, EOF }

  private record Token(Kind kind, String text, int pos) {}

  /** Go-style parse error; the caller wraps it with the expression text. */
  private static class SyntaxError extends Exception {
    SyntaxError(String message) {
      super(message, null, false, false);
    }
  }

  /** The expression nests deeper than {@link ExpressionCompiler#MAX_DEPTH}. */
  private static final class TooDeep extends SyntaxError {
    TooDeep(String message) {
      super(message);
    }
  }

  private final String src;
  private int pos;
  private Token tok;
  /** How many parentheses, brackets, calls and unary operators enclose the current token. */
  private int nesting;

  private Parser(String src) {
    this.src = src;
  }

  /** Parses {@code text}; throws ExpressionException with upstream's wording. */
  static Expr parse(String text) throws ExpressionException {
    Parser p = new Parser(text);
    Ast node;
    try {
      p.next();
      node = p.binary(1);
      if (p.tok.kind != Kind.EOF) {
        throw p.error(p.tok.pos, "expected 'EOF', found " + p.describe(p.tok));
      }
    } catch (SyntaxError e) {
      throw new ExpressionException("unable to parse expression '" + text + "': " + e.getMessage());
    }
    return p.convert(node);
  }

  // ---- Go AST, as far as these expressions need it; each node knows its height ----

  private sealed interface Ast permits Lit, Ident, Selector, Index, CallNode, Unary, Binary, Chain, Star, Paren {
    /** The longest path from this node to a leaf, counting both ends. */
    int height();
  }

  private record Lit(Token token) implements Ast {
    @Override
    public int height() {
      return 1;
    }
  }

  private record Ident(String name) implements Ast {
    @Override
    public int height() {
      return 1;
    }
  }

  private record Selector(Ast x, String sel, int height) implements Ast {}

  private record Index(Ast x, Ast index, int height) implements Ast {}

  private record CallNode(Ast fun, List<Ast> args, int height) implements Ast {}

  private record Unary(String op, Ast x, int height) implements Ast {}

  private record Binary(String op, Ast x, Ast y, int height) implements Ast {}

  /** {@code a op b op c ...} for an operator in {@link #CHAINED}; {@code operands} grows while parsing. */
  private record Chain(String op, List<Ast> operands, int height) implements Ast {}

  private record Star(Ast x, int height) implements Ast {}

  /** Parentheses do not make the tree higher (the prefix form has none); they count as nesting. */
  private record Paren(Ast x) implements Ast {
    @Override
    public int height() {
      return x.height();
    }
  }

  // ---- scanner ----

  private void next() throws SyntaxError {
    int n = src.length();
    while (pos < n && (src.charAt(pos) == ' ' || src.charAt(pos) == '\t' || src.charAt(pos) == '\r'
        || src.charAt(pos) == '\n')) {
      pos++;
    }
    int start = pos;
    if (pos >= n) {
      tok = new Token(Kind.EOF, "", start);
      return;
    }
    char c = src.charAt(pos);
    if (Character.isLetter(c) || c == '_') {
      while (pos < n && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
        pos++;
      }
      tok = new Token(Kind.IDENT, src.substring(start, pos), start);
      return;
    }
    if (Character.isDigit(c) || (c == '.' && pos + 1 < n && Character.isDigit(src.charAt(pos + 1)))) {
      scanNumber(start);
      return;
    }
    switch (c) {
      case '"' -> {
        scanQuoted('"', "string literal not terminated");
        tok = new Token(Kind.STRING, src.substring(start, pos), start);
        return;
      }
      case '`' -> {
        int end = src.indexOf('`', pos + 1);
        if (end < 0) {
          throw error(start, "raw string literal not terminated");
        }
        pos = end + 1;
        tok = new Token(Kind.STRING, src.substring(start, pos), start);
        return;
      }
      case '\'' -> {
        scanQuoted('\'', "rune literal not terminated");
        tok = new Token(Kind.CHAR, src.substring(start, pos), start);
        return;
      }
      default -> { }
    }
    for (String op : new String[] {"&^", "<<", ">>", "==", "!=", "<=", ">=", "&&", "||", "<-"}) {
      if (src.startsWith(op, pos)) {
        pos += 2;
        tok = new Token(Kind.OP, op, start);
        return;
      }
    }
    if ("+-*/%&|^<>=!()[],.:{};".indexOf(c) >= 0) {
      pos++;
      tok = new Token(Kind.OP, String.valueOf(c), start);
      return;
    }
    int cp = src.codePointAt(pos);
    throw error(start, String.format(Locale.ROOT, "illegal character U+%04X '%s'", cp,
        new String(Character.toChars(cp))));
  }

  /** Moves past a quoted literal starting at {@code pos}, honouring backslash escapes. */
  private void scanQuoted(char quote, String unterminated) throws SyntaxError {
    int start = pos++;
    while (true) {
      if (pos >= src.length() || src.charAt(pos) == '\n') {
        throw error(start, unterminated);
      }
      char d = src.charAt(pos++);
      if (d == '\\') {
        pos++;
      } else if (d == quote) {
        return;
      }
    }
  }

  private void scanNumber(int start) {
    int n = src.length();
    boolean isFloat = false;
    if (src.startsWith("0x", pos) || src.startsWith("0X", pos)) {
      pos += 2;
      while (pos < n && (Character.digit(src.charAt(pos), 16) >= 0 || src.charAt(pos) == '_')) {
        pos++;
      }
    } else {
      while (pos < n && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
        pos++;
      }
      if (pos < n && src.charAt(pos) == '.') {
        isFloat = true;
        pos++;
        while (pos < n && Character.isDigit(src.charAt(pos))) {
          pos++;
        }
      }
      if (pos < n && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
        isFloat = true;
        pos++;
        if (pos < n && (src.charAt(pos) == '+' || src.charAt(pos) == '-')) {
          pos++;
        }
        while (pos < n && Character.isDigit(src.charAt(pos))) {
          pos++;
        }
      }
    }
    if (pos < n && src.charAt(pos) == 'i') {
      pos++;
      tok = new Token(Kind.IMAG, src.substring(start, pos), start);
      return;
    }
    tok = new Token(isFloat ? Kind.FLOAT : Kind.INT, src.substring(start, pos), start);
  }

  // ---- parser (Go precedence: || 1, && 2, comparisons 3, + - | ^ 4, * / % << >> & &^ 5) ----

  private static int precedence(Token t) {
    if (t.kind != Kind.OP) {
      return 0;
    }
    return switch (t.text) {
      case "||" -> 1;
      case "&&" -> 2;
      case "==", "!=", "<", "<=", ">", ">=", "=" -> 3; // '=' as Go's parser treats it in an expression
      case "+", "-", "|", "^" -> 4;
      case "*", "/", "%", "<<", ">>", "&", "&^" -> 5;
      default -> 0;
    };
  }

  private Ast binary(int prec) throws SyntaxError {
    Ast x = unary();
    while (true) {
      int p = precedence(tok);
      if (p < prec) {
        return x;
      }
      Token op = tok;
      if (op.text.equals("=")) {
        throw error(op.pos, "expected '==', found '='");
      }
      next();
      Ast y = binary(p + 1);
      if (x instanceof Chain c && c.op.equals(op.text)) {
        // Only this loop makes a bare Chain (a nested one is in a Paren): extend it in place.
        c.operands.add(y);
        x = c.height > y.height() ? c : limited(new Chain(c.op, c.operands, y.height() + 1), op.pos);
        continue;
      }
      int height = Math.max(x.height(), y.height()) + 1;
      if (!CHAINED.contains(op.text)) {
        x = limited(new Binary(op.text, x, y, height), op.pos);
      } else {
        List<Ast> operands = new ArrayList<>();
        operands.add(x);
        operands.add(y);
        x = limited(new Chain(op.text, operands, height), op.pos);
      }
    }
  }

  private Ast unary() throws SyntaxError {
    if (tok.kind == Kind.OP) {
      switch (tok.text) {
        case "+", "-", "!", "^", "&", "<-", "*" -> {
          Token op = tok;
          enter(op.pos);
          next();
          Ast x = unary();
          nesting--;
          return limited(op.text.equals("*") ? new Star(x, x.height() + 1) : new Unary(op.text, x, x.height() + 1),
              op.pos);
        }
        default -> { }
      }
    }
    return primary();
  }

  private Ast primary() throws SyntaxError {
    Ast x = operand();
    while (tok.kind == Kind.OP) {
      Token t = tok;
      switch (t.text) {
        case "." -> {
          next();
          if (tok.kind != Kind.IDENT) {
            throw error(tok.pos, "expected selector or type assertion, found " + describe(tok));
          }
          x = limited(new Selector(x, tok.text, x.height() + 1), t.pos);
          next();
        }
        case "[" -> {
          enter(t.pos);
          next();
          Ast index = binary(1);
          expect("]");
          nesting--;
          x = limited(new Index(x, index, Math.max(x.height(), index.height()) + 1), t.pos);
        }
        case "(" -> {
          enter(t.pos);
          next();
          List<Ast> args = new ArrayList<>();
          int height = x.height();
          while (!(tok.kind == Kind.OP && tok.text.equals(")"))) {
            Ast arg = binary(1);
            args.add(arg);
            height = Math.max(height, arg.height());
            if (tok.kind == Kind.OP && tok.text.equals(",")) {
              next();
            } else {
              break;
            }
          }
          expect(")");
          nesting--;
          x = limited(new CallNode(x, args, height + 1), t.pos);
        }
        default -> {
          return x;
        }
      }
    }
    return x;
  }

  private Ast operand() throws SyntaxError {
    Token t = tok;
    switch (t.kind) {
      case IDENT -> {
        next();
        return new Ident(t.text);
      }
      case INT, FLOAT, IMAG, STRING, CHAR -> {
        next();
        return new Lit(t);
      }
      case OP -> {
        if (t.text.equals("(")) {
          enter(t.pos);
          next();
          Ast x = binary(1);
          expect(")");
          nesting--;
          return new Paren(x);
        }
        throw error(t.pos, "expected operand, found " + describe(t));
      }
      default -> throw error(t.pos, "expected operand, found 'EOF'");
    }
  }

  /** Counts one more level of nesting at {@code offset}; refuses to go deeper than the limit. */
  private void enter(int offset) throws TooDeep {
    if (++nesting > ExpressionCompiler.MAX_DEPTH) {
      throw tooDeep(offset);
    }
  }

  /** Returns {@code node} unless it makes the tree higher than the limit. */
  private Ast limited(Ast node, int offset) throws TooDeep {
    if (node.height() > ExpressionCompiler.MAX_DEPTH) {
      throw tooDeep(offset);
    }
    return node;
  }

  private TooDeep tooDeep(int offset) {
    int[] lineAndColumn = position(offset);
    String where = lineAndColumn[0] == 1 ? "column " + lineAndColumn[1]
        : "line " + lineAndColumn[0] + ", column " + lineAndColumn[1];
    return new TooDeep("expression nests deeper than " + ExpressionCompiler.MAX_DEPTH + " levels at " + where);
  }

  private void expect(String op) throws SyntaxError {
    if (tok.kind != Kind.OP || !tok.text.equals(op)) {
      throw error(tok.pos, "expected '" + op + "', found " + describe(tok));
    }
    next();
  }

  private String describe(Token t) {
    return switch (t.kind) {
      case EOF -> "'EOF'";
      case OP -> "'" + t.text + "'";
      default -> t.text;
    };
  }

  private SyntaxError error(int offset, String message) {
    int[] lineAndColumn = position(offset);
    return new SyntaxError(lineAndColumn[0] + ":" + lineAndColumn[1] + ": " + message);
  }

  /** Line and column (from 1) of {@code offset}, as Go's scanner counts them. */
  private int[] position(int offset) {
    int line = 1;
    int col = 1;
    for (int i = 0; i < offset && i < src.length(); i++) {
      if (src.charAt(i) == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    return new int[] {line, col};
  }

  // ---- Go AST to prefix form, as upstream's evalAST ----

  private Expr convert(Ast node) throws ExpressionException {
    if (node instanceof Paren p) {
      return convert(p.x);
    }
    if (node instanceof Lit l) {
      return literal(l.token, false);
    }
    if (node instanceof Ident id) {
      if (id.name.equalsIgnoreCase("true") || id.name.equalsIgnoreCase("false")) {
        return new Expr.Const(ValueType.BOOL, Boolean.valueOf(id.name.toLowerCase(Locale.ROOT)),
            id.name.toLowerCase(Locale.ROOT));
      }
      return new Expr.Var(id.name);
    }
    if (node instanceof Selector s) {
      String name = dotted(s);
      if (name == null) {
        throw unexpected(s);
      }
      return new Expr.Var(name);
    }
    if (node instanceof Index ix) {
      return new Expr.Call("INDEX", null, List.of(convert(ix.x), convert(ix.index)));
    }
    if (node instanceof CallNode c) {
      List<Expr> args = new ArrayList<>(c.args.size());
      for (Ast a : c.args) {
        args.add(convert(a));
      }
      if (c.fun instanceof Ident id) {
        return new Expr.Call(id.name, null, args);
      }
      if (c.fun instanceof Selector s) {
        return new Expr.Call(s.sel, convert(s.x), args);
      }
      throw unexpected(c);
    }
    if (node instanceof Unary u) {
      // A sign on a number literal makes a negative constant (upstream had no negative literals).
      if ((u.op.equals("-") || u.op.equals("+")) && u.x instanceof Lit l
          && (l.token.kind == Kind.INT || l.token.kind == Kind.FLOAT)) {
        return literal(l.token, u.op.equals("-"));
      }
      return new Expr.Call(UNARY.get(u.op), null, List.of(convert(u.x)));
    }
    if (node instanceof Binary b) {
      return new Expr.Call(BINARY.get(b.op), null, List.of(convert(b.x), convert(b.y)));
    }
    if (node instanceof Chain ch) {
      List<Expr> operands = new ArrayList<>(ch.operands.size());
      for (Ast a : ch.operands) {
        operands.add(convert(a));
      }
      return new Expr.Call(BINARY.get(ch.op), null, List.copyOf(operands));
    }
    throw unexpected(node);
  }

  private static String dotted(Ast node) {
    if (node instanceof Ident id) {
      return id.name;
    }
    if (node instanceof Selector s) {
      String left = dotted(s.x);
      return left == null ? null : left + "." + s.sel;
    }
    return null;
  }

  private ExpressionException unexpected(Ast node) {
    return new ExpressionException("unexpected expression: " + node);
  }

  private Expr literal(Token t, boolean negate) throws ExpressionException {
    String text = t.text.replace("_", "");
    try {
      switch (t.kind) {
        case INT -> {
          long v;
          if (text.startsWith("0x") || text.startsWith("0X")) {
            v = Long.parseUnsignedLong(text.substring(2), 16);
            if (v < 0) {
              throw new NumberFormatException();
            }
          } else if (text.length() > 1 && text.startsWith("0")) {
            v = Long.parseLong(text.substring(1), 8);
          } else {
            v = Long.parseLong(text);
          }
          v = negate ? -v : v;
          return new Expr.Const(ValueType.INT64, v, Long.toString(v));
        }
        case FLOAT -> {
          double d = Double.parseDouble(text);
          d = negate ? -d : d;
          return new Expr.Const(ValueType.DOUBLE, d, formatDouble(d));
        }
        case STRING, CHAR -> {
          String s = GoStrings.unquote(t.text);
          Duration d = GoValues.parseDurationOrNull(s); // null, not an exception: most strings are none
          return d != null ? new Expr.Const(ValueType.DURATION, d, t.text)
              : new Expr.Const(ValueType.STRING, s, GoStrings.quote(s));
        }
        default -> throw new ExpressionException("unexpected expression: " + t.text);
      }
    } catch (NumberFormatException e) {
      throw new ExpressionException("unable to parse expression '" + src + "': invalid number " + t.text);
    } catch (IllegalArgumentException e) {
      throw new ExpressionException("unable to parse expression '" + src + "': " + e.getMessage());
    }
  }

  static String formatDouble(double d) {
    if (d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 1e21) {
      return Long.toString((long) d);
    }
    return Double.toString(d);
  }
}
