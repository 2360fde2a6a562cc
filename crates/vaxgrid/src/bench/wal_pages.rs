//! `bench writer --wal-pages`: the pages a run's commits write to SQLite's
//! write-ahead log, per commit and per b-tree (table or index). Every page
//! a commit changes is appended to the WAL as one frame before it reaches
//! the database file (the store never checkpoints on its own:
//! `wal_autocheckpoint=0`), so the frames are the commit's write cost, and
//! their page numbers say which table or index it comes from.
//!
//! The format (<https://www.sqlite.org/fileformat.html#the_write_ahead_log>):
//! a 32-byte header (magic at 0..4, page size at 8..12, salts at 16..24),
//! then frames of a 24-byte header (page number at 0..4, the database's
//! size in pages after the commit at 4..8, zero unless the frame ends a
//! commit, salts at 8..16) followed by the page. A checkpoint that restarts
//! the log writes new salts, so frames with other salts are left over from
//! an earlier generation. Checksums are not verified: they only catch a
//! torn write, which a bench run that did not crash has not had.

use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom};

const HEADER: u64 = 32;
const FRAME_HEADER: u64 = 24;
/// Magic numbers of a WAL (checksums big- or little-endian).
const MAGIC: [u32; 2] = [0x377f_0682, 0x377f_0683];

/// The frames of a WAL's current generation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wal {
    pub page_size: u32,
    pub salt: [u8; 8],
    pub frames: Vec<Frame>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub page: u32,
    /// The frame ends a commit (its "database size after commit" is set).
    pub commit: bool,
}

impl Wal {
    /// Frames up to and including the last commit frame: the log's end as
    /// readers see it. Frames after it belong to no commit (a transaction
    /// that spilled pages and rolled back) and the next write overwrites them.
    pub fn committed(&self) -> usize {
        self.frames
            .iter()
            .rposition(|f| f.commit)
            .map_or(0, |i| i + 1)
    }
}

/// Reads the header and every frame header of a WAL (the pages are
/// skipped, so a log of hundreds of MB is not held in memory). A file
/// shorter than a header is an empty log; a frame cut short is not counted.
pub fn read(mut file: impl Read + Seek) -> io::Result<Wal> {
    let len = file.seek(SeekFrom::End(0))?;
    let mut header = [0u8; HEADER as usize];
    if len < HEADER {
        return Ok(Wal {
            page_size: 0,
            salt: [0; 8],
            frames: Vec::new(),
        });
    }
    file.seek(SeekFrom::Start(0))?;
    file.read_exact(&mut header)?;
    if !MAGIC.contains(&be32(&header[0..4])) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a SQLite WAL",
        ));
    }
    let page_size = be32(&header[8..12]);
    let mut salt = [0u8; 8];
    salt.copy_from_slice(&header[16..24]);
    let mut frames = Vec::new();
    let mut at = HEADER;
    let mut frame = [0u8; FRAME_HEADER as usize];
    while at + FRAME_HEADER + u64::from(page_size) <= len {
        file.seek(SeekFrom::Start(at))?;
        file.read_exact(&mut frame)?;
        if frame[8..16] != salt {
            break;
        }
        frames.push(Frame {
            page: be32(&frame[0..4]),
            commit: be32(&frame[4..8]) != 0,
        });
        at += FRAME_HEADER + u64::from(page_size);
    }
    Ok(Wal {
        page_size,
        salt,
        frames,
    })
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// The log restarted (a checkpoint ran) between the two reads: the frames
/// written in between are partly gone.
#[derive(Debug, PartialEq, Eq)]
pub struct Restarted;

/// The commits appended to the log since `before` (the same log read
/// earlier), each as the page numbers of its frames.
pub fn commits_since(before: &Wal, after: &Wal) -> Result<Vec<Vec<u32>>, Restarted> {
    let skip = before.committed();
    // An empty log may get new salts with its first frame; one that had
    // frames keeps its salts until a checkpoint restarts it.
    if skip > 0 && (before.salt != after.salt || after.committed() < skip) {
        return Err(Restarted);
    }
    let mut commits = Vec::new();
    let mut pages = Vec::new();
    for frame in &after.frames[skip..after.committed()] {
        pages.push(frame.page);
        if frame.commit {
            commits.push(std::mem::take(&mut pages));
        }
    }
    Ok(commits)
}

/// Frames per b-tree over a run's commits, most first.
#[derive(Debug, PartialEq)]
pub struct Attribution {
    pub commits: usize,
    pub frames: usize,
    pub by_btree: Vec<(String, usize)>,
}

/// Attributes each frame to the b-tree that owns its page now (`owners`,
/// from `dbstat` at the log's end). A page that changed owner during the
/// run (freed, then reused) counts for its last owner; a page no b-tree
/// owns (on the freelist) is counted apart.
pub fn attribute(commits: &[Vec<u32>], owners: &HashMap<u32, String>) -> Attribution {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for page in commits.iter().flatten() {
        let owner = owners.get(page).map_or("(free page)", String::as_str);
        *counts.entry(owner).or_default() += 1;
    }
    let mut by_btree: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(n, c)| (n.to_string(), c))
        .collect();
    by_btree.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Attribution {
        commits: commits.len(),
        frames: commits.iter().map(Vec::len).sum(),
        by_btree,
    }
}

/// The report's lines: frames per commit of the `top` b-trees, the others
/// together, the total, and the bytes per commit (pages and frame headers).
pub fn table(a: &Attribution, top: usize, page_size: u32) -> Vec<String> {
    let per_commit = |frames: usize| frames as f64 / a.commits.max(1) as f64;
    let mut lines = vec![format!("  {:<44} {:>13}", "b-tree", "frames/commit")];
    for (name, frames) in a.by_btree.iter().take(top) {
        lines.push(format!("  {name:<44} {:>13.2}", per_commit(*frames)));
    }
    if a.by_btree.len() > top {
        let rest = &a.by_btree[top..];
        let label = format!("other ({} b-trees)", rest.len());
        let frames = rest.iter().map(|(_, f)| f).sum();
        lines.push(format!("  {label:<44} {:>13.2}", per_commit(frames)));
    }
    lines.push(format!("  {:<44} {:>13.2}", "total", per_commit(a.frames)));
    let bytes = per_commit(a.frames) * f64::from(page_size + FRAME_HEADER as u32);
    lines.push(format!("  {:<44} {:>13.1}", "KiB/commit", bytes / 1024.0));
    lines.push(format!("  {:<44} {:>13}", "commits", a.commits));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    const PAGE: u32 = 512;

    fn header(salt: [u8; 8]) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend(0x377f_0682u32.to_be_bytes());
        h.extend(3_007_000u32.to_be_bytes());
        h.extend(PAGE.to_be_bytes());
        h.extend(0u32.to_be_bytes());
        h.extend(salt);
        h.extend([0; 8]);
        h
    }

    fn frame(wal: &mut Vec<u8>, page: u32, size_after_commit: u32, salt: [u8; 8]) {
        wal.extend(page.to_be_bytes());
        wal.extend(size_after_commit.to_be_bytes());
        wal.extend(salt);
        wal.extend([0; 8]);
        wal.extend(vec![0xab; PAGE as usize]);
    }

    const S1: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
    const S2: [u8; 8] = [2, 2, 3, 4, 9, 9, 9, 9];

    fn pages(wal: &Wal) -> Vec<(u32, bool)> {
        wal.frames.iter().map(|f| (f.page, f.commit)).collect()
    }

    #[test]
    fn reads_frames_and_commits() {
        let mut wal = header(S1);
        frame(&mut wal, 1, 0, S1);
        frame(&mut wal, 7, 9, S1);
        frame(&mut wal, 3, 9, S1);
        let read = read(Cursor::new(wal)).unwrap();
        assert_eq!(read.page_size, PAGE);
        assert_eq!(read.salt, S1);
        assert_eq!(pages(&read), [(1, false), (7, true), (3, true)]);
        assert_eq!(read.committed(), 3);
    }

    #[test]
    fn stops_at_old_salts_and_a_frame_cut_short() {
        // A restarted log overwrites the old one from the start: frames of
        // the old generation follow the new ones.
        let mut wal = header(S2);
        frame(&mut wal, 4, 5, S2);
        frame(&mut wal, 5, 5, S1);
        assert_eq!(pages(&read(Cursor::new(wal)).unwrap()), [(4, true)]);

        let mut wal = header(S1);
        frame(&mut wal, 4, 5, S1);
        frame(&mut wal, 6, 6, S1);
        wal.truncate(wal.len() - 1);
        assert_eq!(pages(&read(Cursor::new(wal)).unwrap()), [(4, true)]);
    }

    #[test]
    fn an_empty_file_is_an_empty_log_and_other_files_are_refused() {
        assert!(read(Cursor::new(Vec::new())).unwrap().frames.is_empty());
        let mut wal = header(S1);
        wal[0] = 0;
        assert!(read(Cursor::new(wal)).is_err());
    }

    #[test]
    fn counts_the_commits_after_an_earlier_read() {
        let mut wal = header(S1);
        frame(&mut wal, 1, 3, S1);
        // Spilled by a transaction that rolled back: not a commit, and the
        // next commit's frames take its place.
        frame(&mut wal, 2, 0, S1);
        let before = read(Cursor::new(wal.clone())).unwrap();
        assert_eq!(before.committed(), 1);
        wal.truncate(HEADER as usize + (FRAME_HEADER as usize + PAGE as usize));
        frame(&mut wal, 2, 0, S1);
        frame(&mut wal, 3, 3, S1);
        frame(&mut wal, 3, 3, S1);
        // Uncommitted at the end: not counted.
        frame(&mut wal, 1, 0, S1);
        let after = read(Cursor::new(wal)).unwrap();
        assert_eq!(
            commits_since(&before, &after),
            Ok(vec![vec![2, 3], vec![3]])
        );
    }

    #[test]
    fn a_restarted_log_is_reported_not_counted() {
        let mut wal = header(S1);
        frame(&mut wal, 1, 3, S1);
        let before = read(Cursor::new(wal)).unwrap();
        let mut wal = header(S2);
        frame(&mut wal, 1, 3, S2);
        frame(&mut wal, 2, 3, S2);
        let after = read(Cursor::new(wal)).unwrap();
        assert_eq!(commits_since(&before, &after), Err(Restarted));
        // A log that was empty may take new salts with its first frame.
        let empty = read(Cursor::new(header(S1))).unwrap();
        assert_eq!(commits_since(&empty, &after), Ok(vec![vec![1], vec![2]]));
    }

    #[test]
    fn attributes_frames_to_their_page_owners() {
        let owners: HashMap<u32, String> =
            [(1, "sqlite_schema"), (2, "doses"), (3, "doses_person")]
                .into_iter()
                .map(|(p, n)| (p, n.to_string()))
                .collect();
        let a = attribute(&[vec![2, 3, 2], vec![2, 9]], &owners);
        assert_eq!(a.commits, 2);
        assert_eq!(a.frames, 5);
        assert_eq!(
            a.by_btree,
            [
                ("doses".to_string(), 3),
                ("(free page)".to_string(), 1),
                ("doses_person".to_string(), 1)
            ]
        );
        let lines = table(&a, 2, 4096);
        assert!(lines[1].starts_with("  doses ") && lines[1].ends_with(" 1.50"));
        assert!(lines[3].starts_with("  other (1 b-trees)") && lines[3].ends_with(" 0.50"));
        assert!(lines[4].starts_with("  total") && lines[4].ends_with(" 2.50"));
        // 2.5 frames of 4096 + 24 bytes.
        assert!(lines[5].ends_with(" 10.1"), "{}", lines[5]);
        assert!(lines[6].ends_with(" 2"));
    }
}
