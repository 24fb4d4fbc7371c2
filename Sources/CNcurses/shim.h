// ncursesw (wide-character curses), imported only by HarkTerminal's CursesScreen.swift.
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#define _XOPEN_SOURCE_EXTENDED 1
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include <stdio.h>
#include <locale.h>
#include <wchar.h>
#include <ncursesw/curses.h>

// Macros Swift cannot import, as functions.
static inline int hark_curses_err(void) { return ERR; }
static inline attr_t hark_a_reverse(void) { return A_REVERSE; }
static inline attr_t hark_a_bold(void) { return A_BOLD; }
static inline attr_t hark_a_dim(void) { return A_DIM; }
static inline attr_t hark_color_pair(int n) { return COLOR_PAIR(n); }
static inline WINDOW *hark_stdscr(void) { return stdscr; }
static inline int hark_lines(void) { return LINES; }
static inline int hark_cols(void) { return COLS; }
static inline FILE *hark_stdout(void) { return stdout; }
static inline FILE *hark_stdin(void) { return stdin; }
// wcwidth(3) of the C library (declared only with _XOPEN_SOURCE): columns of one wide character.
static inline int hark_wcwidth(unsigned int c) { return wcwidth((wchar_t)c); }
