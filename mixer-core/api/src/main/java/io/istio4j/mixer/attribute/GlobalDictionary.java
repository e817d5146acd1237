package io.istio4j.mixer.attribute;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The deployment-wide dictionary of Istio 0.3.0: 167 words compiled into both client and server.
 *
 * <p>A non-negative dictionary index {@code i} on the wire is word {@code i} of this list. The list
 * is byte-for-byte upstream's generated {@code list.gen.go}: the entries {@code '200'}, {@code '0'}
 * and {@code '1'} keep their single quotes.
 *
 * <pre>{@code
 * GlobalDictionary.word(152);                        // "destination.service"
 * GlobalDictionary.indexOf("request.headers");       // 15
 * }</pre>
 */
public final class GlobalDictionary {

  /** The number of words in the 0.3.0 dictionary. */
  public static final int SIZE = 167;

  /**
   * The number of words mixerclient falls back to after the server rejects its indexes
   * ({@code kGlobalDictionaryBaseSize}).
   */
  public static final int BASE_SIZE = 111;

  private static final String[] WORDS = load();
  private static final byte[][] UTF8 = new byte[WORDS.length][];
  private static final Map<String, Integer> INDEX = new HashMap<>();

  static {
    for (int i = 0; i < WORDS.length; i++) {
      UTF8[i] = WORDS[i].getBytes(StandardCharsets.UTF_8);
      INDEX.put(WORDS[i], i);
    }
  }

  private GlobalDictionary() {}

  /** Returns word {@code index}; throws {@link IndexOutOfBoundsException} outside 0..SIZE-1. */
  public static String word(int index) {
    return WORDS[index];
  }

  /** Returns the index of {@code word}, or -1 when it is not in the dictionary. */
  public static int indexOf(String word) {
    Integer i = INDEX.get(word);
    return i == null ? -1 : i;
  }

  /** Returns all words, in index order. */
  public static List<String> words() {
    return List.of(WORDS);
  }

  static byte[] utf8(int index) {
    return UTF8[index];
  }

  private static String[] load() {
    try (InputStream in = GlobalDictionary.class.getResourceAsStream("global_dictionary.txt")) {
      if (in == null) {
        throw new IllegalStateException("global_dictionary.txt missing from the class path");
      }
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      List<String> words = new ArrayList<>(SIZE);
      int start = 0;
      for (int nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        words.add(text.substring(start, nl));
        start = nl + 1;
      }
      if (start < text.length()) {
        words.add(text.substring(start));
      }
      if (words.size() != SIZE) {
        throw new IllegalStateException(
            "global dictionary: " + words.size() + " words (expected: " + SIZE + ")");
      }
      return words.toArray(new String[0]);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
