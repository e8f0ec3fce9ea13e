/// A document for Wadler-style pretty printing: text, optional line breaks, nesting and groups
/// that are laid out flat when they fit in the line width and broken otherwise.
indirect enum Doc: Sendable {
    case text(String)
    /// A space when flat, a newline plus indentation when broken.
    case line
    /// Nothing when flat, a newline plus indentation when broken.
    case softline
    /// Always a newline (never inside a group that should be flat).
    case hardline
    case nest(Int, Doc)
    case concat([Doc])
    case group(Doc)

    static func + (lhs: Doc, rhs: Doc) -> Doc { .concat([lhs, rhs]) }

    /// `items` separated by `separator`.
    static func join(_ items: [Doc], _ separator: Doc) -> Doc {
        var out: [Doc] = []
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(separator) }
            out.append(item)
        }
        return .concat(out)
    }

    /// Lays the document out in `width` columns. Iterative, so deep documents cannot exhaust the stack.
    func render(width: Int) -> String {
        var out = ""
        var column = 0
        var stack: [(indent: Int, flat: Bool, doc: Doc)] = [(0, false, self)]
        while let (indent, flat, doc) = stack.popLast() {
            switch doc {
            case .text(let s):
                out += s
                column += s.count
            case .line, .softline:
                if flat {
                    if case .line = doc {
                        out += " "
                        column += 1
                    }
                } else {
                    Doc.newline(&out, indent)
                    column = indent
                }
            case .hardline:
                Doc.newline(&out, indent)
                column = indent
            case .nest(let n, let inner):
                stack.append((indent + n, flat, inner))
            case .concat(let items):
                for item in items.reversed() { stack.append((indent, flat, item)) }
            case .group(let inner):
                if flat {
                    stack.append((indent, true, inner))
                } else {
                    let fitsFlat = Doc.fits(width - column, (indent, true, inner), rest: stack)
                    stack.append((indent, fitsFlat, inner))
                }
            }
        }
        return out
    }

    private static func newline(_ out: inout String, _ indent: Int) {
        // Trailing spaces never survive: a newline trims the indentation of an empty line.
        while out.hasSuffix(" ") { out.removeLast() }
        out += "\n" + String(repeating: " ", count: indent)
    }

    /// Whether `first`, then the rest of the stack up to its next line break, fits in `width`.
    private static func fits(_ width: Int, _ first: (indent: Int, flat: Bool, doc: Doc), rest: [(indent: Int, flat: Bool, doc: Doc)]) -> Bool {
        var remaining = width
        var local: [(indent: Int, flat: Bool, doc: Doc)] = [first]
        var restIndex = rest.count - 1
        while remaining >= 0 {
            let item: (indent: Int, flat: Bool, doc: Doc)
            if let next = local.popLast() {
                item = next
            } else if restIndex >= 0 {
                item = rest[restIndex]
                restIndex -= 1
            } else {
                return true
            }
            switch item.doc {
            case .text(let s):
                remaining -= s.count
            case .line:
                if !item.flat { return true }
                remaining -= 1
            case .softline:
                if !item.flat { return true }
            case .hardline:
                return true
            case .nest(let n, let inner):
                local.append((item.indent + n, item.flat, inner))
            case .concat(let items):
                for inner in items.reversed() { local.append((item.indent, item.flat, inner)) }
            case .group(let inner):
                local.append((item.indent, item.flat, inner))
            }
        }
        return false
    }
}
