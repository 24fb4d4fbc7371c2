#!/usr/bin/env python3
"""Puts the imports of Swift files in the order swift-format's OrderedImports rule wants
(.swift-format): plain imports sorted by module, then `@testable` imports sorted, then
`#if canImport(...)` blocks that hold only imports, all at the top of the file (after any
leading comment). Imports further down the file are moved up. Touches nothing else.

Usage: scripts/fix-imports.py FILE.swift...   (rewrites the files in place; prints each changed)
Exit: 0 done; 64 no file given; 66 a file is missing.
"""
import re
import sys

IMPORT = re.compile(r'^((?:@\w+(?:\([^)]*\))?\s+|internal\s+|public\s+|package\s+|private\s+|fileprivate\s+)*)import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?([\w.]+)\s*(//.*)?$')


def key(line):
    m = IMPORT.match(line)
    return (m.group(2), line)


def fix(text):
    lines = text.split('\n')
    head = []          # leading comment lines of the file
    i = 0
    while i < len(lines) and (lines[i].startswith('//') or lines[i].strip() == '') and not lines[i].startswith('// swift-format-ignore'):
        if lines[i].strip() == '' and not head:
            i += 1
            continue
        head.append(lines[i])
        i += 1
    # drop trailing blank lines of the leading comment; if the "comment" is a doc comment of a
    # declaration (///), it is not a file header
    while head and head[-1].strip() == '':
        head.pop()
    if any(h.startswith('///') for h in head):
        head, i = [], 0
    plain, testable, blocks, rest = [], [], [], []
    depth = 0
    while i < len(lines):
        line = lines[i]
        if depth == 0 and IMPORT.match(line):
            (testable if line.startswith('@testable') else plain).append(line)
            i += 1
            continue
        if depth == 0 and line.startswith('#if '):
            # a block of imports only (with #elseif/#else branches)?
            j, only = i + 1, True
            while j < len(lines) and not lines[j].startswith('#endif'):
                l = lines[j]
                if not (IMPORT.match(l) or l.startswith('#elseif') or l.startswith('#else') or l.strip() == ''):
                    only = False
                    break
                j += 1
            if only and j < len(lines):
                blocks.append(lines[i:j + 1])
                i = j + 1
                continue
        rest.append(line)
        i += 1
    plain = sorted(set(plain), key=key)
    testable = sorted(set(testable), key=key)
    while rest and rest[0].strip() == '':
        rest.pop(0)
    # collapse blank runs left where imports were removed (at most one blank line)
    out_rest = []
    for line in rest:
        if line.strip() == '' and out_rest and out_rest[-1].strip() == '':
            continue
        out_rest.append(line)
    out = []
    if head:
        out += head + ['']
    out += plain + testable
    for b in blocks:
        if out and out[-1] != '':
            out.append('')
        out += b
    if out:
        out.append('')
    out += out_rest
    return '\n'.join(out)


def main(paths):
    if not paths:
        print(__doc__, file=sys.stderr)
        return 64
    for p in paths:
        try:
            text = open(p, encoding='utf-8').read()
        except FileNotFoundError:
            print(f'fix-imports: no such file: {p}', file=sys.stderr)
            return 66
        new = fix(text)
        if new != text:
            open(p, 'w', encoding='utf-8').write(new)
            print(p)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
