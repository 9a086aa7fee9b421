//! The progress report as text for a terminal (Chinese labels first).

use registry::progress::{PhaseState, ProgressReport, Rate, Tally};
use registry::rules::{ClearsLine, ThreeClears};
use std::io::{self, Write};

fn pct(rate: &Rate) -> String {
    match rate.value() {
        Some(v) => format!("{:.1}% ({}/{})", v * 100.0, rate.numerator, rate.denominator),
        None => "—".to_owned(),
    }
}

/// Columns a string takes in a terminal: CJK characters take two.
fn columns(s: &str) -> usize {
    s.chars().map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 }).sum()
}

/// `s` padded with spaces on the right to `width` terminal columns.
fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(columns(s))))
}

/// `s` right-aligned in `width` terminal columns.
fn right(s: &str, width: usize) -> String {
    format!("{}{s}", " ".repeat(width.saturating_sub(columns(s))))
}

const NAME: usize = 34;
const COLUMNS: [usize; 7] = [16, 16, 22, 22, 22, 22, 22];

fn row(out: &mut impl Write, name: &str, cells: [String; 7]) -> io::Result<()> {
    let cells: Vec<String> = cells.iter().zip(COLUMNS).map(|(c, w)| right(c, w)).collect();
    writeln!(out, "{}{}", pad(name, NAME), cells.join(""))
}

fn line(out: &mut impl Write, name: &str, t: &Tally) -> io::Result<()> {
    row(
        out,
        name,
        [
            format!("{}/{}", t.new_unions, t.target_new_unions),
            format!("{}/{}", t.new_members, t.target_new_members),
            pct(&t.coverage),
            pct(&t.qualified),
            t.vacancies.to_string(),
            pct(&t.membership),
            pct(&t.carded),
        ],
    )
}

pub fn print(out: &mut impl Write, r: &ProgressReport) -> io::Result<()> {
    writeln!(out, "{}年 建会建制建家 进度 / {} campaign progress, as of {}", r.year, r.year, r.as_of)?;
    writeln!(out)?;
    row(
        out,
        "乡镇 township",
        [
            "新建工会 unions",
            "新会员 members",
            "建会率 coverage",
            "六有合格 qualified",
            "主席空缺 vacant",
            "入会率 membership",
            "发证率 cards",
        ]
        .map(String::from),
    )?;
    for t in &r.townships {
        line(out, &format!("{}（{}）", t.name, t.kind.zh()), &t.tally)?;
    }
    line(out, "全县 county", &r.county)?;
    writeln!(out)?;
    writeln!(
        out,
        "会员 active members: {}   法人单位 entities: {}   工会 unions: {}",
        r.county.active_members, r.county.entities, r.county.unions
    )?;
    writeln!(
        out,
        "民营企业 private enterprises: {} (已建会 with a union: {})",
        r.county.private_enterprises, r.county.private_enterprises_with_union
    )?;
    writeln!(out)?;
    writeln!(out, "目标 goals:")?;
    for g in &r.goals {
        let actual = match g.actual {
            Some(a) if !g.rate => format!("{a:.0}"),
            Some(a) => format!("{:.1}%", a * 100.0),
            None => "—".to_owned(),
        };
        let target = if g.rate { format!("{:.0}%", g.target * 100.0) } else { format!("{:.0}", g.target) };
        let mark = if g.met { "达标 met" } else { "未达标 not met" };
        writeln!(out, "  {} / {}: {actual} (目标 target {target}) {mark}", g.zh, g.en)?;
    }
    writeln!(out)?;
    writeln!(out, "工作日程 calendar:")?;
    for p in &r.calendar {
        let state = match p.state {
            PhaseState::NotStarted { starts_in_days } => {
                format!("{starts_in_days}天后开始 starts in {starts_in_days} days")
            }
            PhaseState::Open { days_left } => format!("进行中，剩{days_left}天 open, {days_left} days left"),
            PhaseState::Ended => "已结束 ended".to_owned(),
        };
        let overdue = if p.overdue { "  ⚠ 逾期未完成 overdue" } else { "" };
        writeln!(
            out,
            "  {} / {} ({} → {}): {state}{overdue}",
            p.phase.zh, p.phase.en, p.phase.starts, p.phase.deadline
        )?;
    }
    if r.unplaced > 0 {
        writeln!(out, "\n⚠ {} 条记录所属乡镇不在区域树中 records outside the area tree", r.unplaced)?;
    }
    Ok(())
}

fn clears_lines(out: &mut impl Write, lines: &[ClearsLine], with_members: bool) -> io::Result<()> {
    for l in lines {
        if with_members {
            writeln!(out, "  {}{:>6} 人  会员 members {}", pad(&l.name, 40), l.workers, l.members)?;
        } else {
            writeln!(out, "  {}{:>6} 人", pad(&l.name, 40), l.workers)?;
        }
    }
    Ok(())
}

/// 三个清楚 as text.
pub fn three_clears(out: &mut impl Write, area: &str, c: &ThreeClears) -> io::Result<()> {
    writeln!(out, "{area} 三个清楚 / three clears")?;
    writeln!(
        out,
        "\n一、民营企业 private enterprises: {} 家, 职工 workers {} 人",
        c.private_enterprises.len(),
        c.total_workers
    )?;
    clears_lines(out, &c.private_enterprises, false)?;
    writeln!(out, "\n二、已建会 with a union: {} 家", c.with_union.len())?;
    clears_lines(out, &c.with_union, true)?;
    writeln!(
        out,
        "\n三、未建会 without a union: {} 家, 职工 workers {} 人",
        c.without_union.len(),
        c.workers_without_union
    )?;
    clears_lines(out, &c.without_union, false)
}
