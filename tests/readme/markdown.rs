//! The fenced code blocks of README.md and the docs pages, and the shell
//! commands in a block.

/// One fenced code block.
pub struct Block {
    /// The file it is in, relative to the repository (`docs/scim.md`).
    pub file: String,
    /// The fence's language (`sh`, `json`…; empty for a bare fence).
    pub lang: String,
    /// The `## ` heading the block sits under (empty before the first one).
    pub section: String,
    /// The line number of the block's first line in its file.
    pub first_line: usize,
    pub lines: Vec<String>,
}

impl Block {
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

/// Every fenced block, in order. `### ` and deeper headings stay within
/// their `## ` section.
pub fn blocks(markdown: &str, file: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut section = String::new();
    let mut open: Option<Block> = None;
    for (index, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(info)) => {
                let lang = info.split_whitespace().next().unwrap_or("").to_string();
                open = Some(Block {
                    file: file.to_string(),
                    lang,
                    section: section.clone(),
                    first_line: index + 2,
                    lines: Vec::new(),
                });
            }
            (Some(_), Some(_)) => blocks.push(open.take().expect("a block is open")),
            (Some(block), None) => block.lines.push(line.to_string()),
            (None, None) => {
                if let Some(heading) = line.strip_prefix("## ") {
                    section = heading.trim().to_string();
                }
            }
        }
    }
    assert!(open.is_none(), "{file} ends inside a code block");
    blocks
}

/// One shell command as a user would paste it.
pub struct ShellCommand {
    /// The file it is in.
    pub file: String,
    /// The line number where it starts.
    pub line: usize,
    /// As written, `\` continuation lines included: what bash runs.
    pub text: String,
    /// A comment line right below the command: what it prints (up to a `…`).
    pub documented_output: Option<String>,
}

/// The commands of a shell block: each line, joined with the lines its
/// trailing `\` continues onto. Comment lines are not commands; one right
/// below a command documents its output.
pub fn commands(block: &Block) -> Vec<ShellCommand> {
    let mut commands: Vec<ShellCommand> = Vec::new();
    let mut continuing = false;
    let mut after_command = false;
    for (offset, line) in block.lines.iter().enumerate() {
        if continuing {
            let command = commands.last_mut().expect("a command is being continued");
            command.text.push('\n');
            command.text.push_str(line);
        } else if let Some(comment) = line.trim_start().strip_prefix('#') {
            if after_command {
                let command = commands.last_mut().expect("a command precedes");
                command.documented_output.get_or_insert_with(|| comment.trim().to_string());
            }
            continue;
        } else if line.trim().is_empty() {
            after_command = false;
            continue;
        } else {
            commands.push(ShellCommand {
                file: block.file.clone(),
                line: block.first_line + offset,
                text: line.clone(),
                documented_output: None,
            });
        }
        continuing = line.trim_end().ends_with('\\');
        after_command = true;
    }
    commands
}

/// The command on one line, for messages.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().filter(|word| *word != "\\").collect::<Vec<_>>().join(" ")
}
