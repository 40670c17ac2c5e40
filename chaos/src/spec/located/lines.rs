//! Lines and columns from character offsets. saphyr reports both a character index and a
//! line and column; its index is the one that always lies within the input (its line count
//! can run one past the end on some inputs), so every position is computed from the index.

use super::Pos;

/// Where each line of a text starts and ends, with line breaks as YAML counts them (`\n`,
/// `\r\n`, `\r`).
pub(super) struct LineIndex {
    /// The character offsets of each line's first character and of its line break (or of
    /// the end of the text, for the last line).
    lines: Vec<(usize, usize)>,
}

impl LineIndex {
    pub(super) fn new(text: &str) -> Self {
        let mut lines = Vec::new();
        let (mut start, mut count) = (0, 0);
        let mut chars = text.chars().enumerate().peekable();
        while let Some((index, c)) = chars.next() {
            count = index + 1;
            if c == '\r' && chars.next_if(|&(_, next)| next == '\n').is_some() {
                count += 1;
            }
            if matches!(c, '\n' | '\r') {
                lines.push((start, index));
                start = count;
            }
        }
        lines.push((start, count));
        LineIndex { lines }
    }

    /// The 1-based line and column of the character at `index`: a line break counts as the
    /// column after its line's last character, an index past the text as the end of the
    /// text.
    pub(super) fn pos(&self, index: usize) -> Pos {
        let line = self
            .lines
            .partition_point(|&(start, _)| start <= index)
            .max(1);
        let (start, end) = self.lines.get(line - 1).copied().unwrap_or((0, 0));
        Pos {
            line,
            column: index.clamp(start, end) - start + 1,
        }
    }

    /// The position just after the last character.
    pub(super) fn end(&self) -> Pos {
        self.pos(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_at_lf_crlf_and_cr() {
        let lines = LineIndex::new("ab\ncd\r\ne\rf");
        let at = |index| {
            let pos = lines.pos(index);
            (pos.line, pos.column)
        };
        assert_eq!(at(0), (1, 1));
        assert_eq!(at(2), (1, 3));
        assert_eq!(at(3), (2, 1));
        assert_eq!(at(5), (2, 3));
        assert_eq!(at(6), (2, 3), "the LF of a CRLF");
        assert_eq!(at(7), (3, 1));
        assert_eq!(at(9), (4, 1));
        assert_eq!(at(99), (4, 2));
        assert_eq!((lines.end().line, lines.end().column), (4, 2));
        let empty = LineIndex::new("");
        assert_eq!((empty.end().line, empty.end().column), (1, 1));
    }
}
