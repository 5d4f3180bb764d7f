//! The typed facts an application carries (API.md, "Facts").

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::free_text;

/// Highest academic degree, lowest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Degree {
    /// No degree.
    #[default]
    None,
    /// 专科.
    Associate,
    /// 学士.
    Bachelor,
    /// 硕士.
    Master,
    /// 博士.
    Doctorate,
}

/// Professional title level, lowest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Title {
    /// No title.
    #[default]
    None,
    /// 初级.
    Junior,
    /// 中级.
    Intermediate,
    /// 副高级.
    AssociateSenior,
    /// 正高级.
    FullSenior,
}

/// Vocational skill level, lowest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Skill {
    /// No certified level.
    #[default]
    None,
    /// 高级工.
    SeniorWorker,
    /// 技师.
    Technician,
    /// 高级技师.
    SeniorTechnician,
}

/// What an honour is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HonourKind {
    /// 中国科学院院士.
    AcademicianCas,
    /// 中国工程院院士.
    AcademicianCae,
    /// A talent programme (人才计划).
    TalentProgramme,
    /// A science and technology award.
    ScienceAward,
}

/// The level of the body that granted an honour, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// City level.
    Municipal,
    /// Provincial or ministerial level.
    Provincial,
    /// National level.
    National,
}

/// One honour, programme or award.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Honour {
    /// What it is.
    pub kind: HonourKind,
    /// Who granted it.
    pub level: Level,
    /// For awards: 1 for a first prize, 2 for a second…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<u32>,
}

/// The employer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Employer {
    /// Registered name.
    pub name: String,
    /// Unified social credit code (统一社会信用代码), 18 characters.
    #[schema(example = "91130600MA0D0XXXXX")]
    pub credit_code: String,
    /// District code where the employer is located.
    #[schema(example = "xiongan")]
    pub district: String,
}

/// Everything the rules may look at. Amounts are whole yuan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Facts {
    /// Date of birth.
    #[schema(value_type = String, format = Date, example = "1988-05-01")]
    pub birth_date: NaiveDate,
    /// ISO 3166-1 alpha-2 code.
    #[serde(default = "default_nationality")]
    #[schema(example = "CN")]
    pub nationality: String,
    /// Highest degree.
    pub highest_degree: Degree,
    /// Professional title.
    #[serde(default)]
    pub professional_title: Title,
    /// Skill level.
    #[serde(default)]
    pub skill_level: Skill,
    /// Talent programmes, honours and awards.
    #[serde(default)]
    pub honours: Vec<Honour>,
    /// Granted invention patents.
    #[serde(default)]
    pub invention_patents: u32,
    /// Annual salary before tax, CNY.
    #[serde(default)]
    pub annual_salary_cny: u64,
    /// Individual income tax paid last year, CNY.
    #[serde(default)]
    pub income_tax_cny: u64,
    /// The employer.
    pub employer: Employer,
    /// Months a year spent working in the district.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months_in_district: Option<u32>,
}

fn default_nationality() -> String {
    "CN".to_owned()
}

impl Facts {
    /// Whole years of age on `on`.
    pub fn age_on(&self, on: NaiveDate) -> i64 {
        let mut age = i64::from(on.year()) - i64::from(self.birth_date.year());
        if (on.month(), on.day()) < (self.birth_date.month(), self.birth_date.day()) {
            age -= 1;
        }
        age
    }

    /// The facts as they are kept: free text trimmed, as [`Facts::problems`] checks it, so what
    /// is sealed is what was checked. Facts without surrounding spaces come back unchanged.
    pub fn trimmed(mut self) -> Facts {
        self.employer.name = self.employer.name.trim().to_owned();
        self
    }

    /// Checks what types alone cannot: dates that make sense, bounded lists, plain text.
    /// Returns `(field, message)` pairs; district existence is the caller's (it needs the
    /// database).
    pub fn problems(&self, today: NaiveDate) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let mut problem =
            |field: &str, message: &str| problems.push((field.to_owned(), message.to_owned()));
        let oldest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        if self.birth_date > today || self.birth_date < oldest {
            problem("birth_date", "must be a past date after 1900");
        } else if self.age_on(today) < 16 {
            problem("birth_date", "applicants must be at least 16");
        }
        let alpha2 =
            self.nationality.len() == 2 && self.nationality.bytes().all(|b| b.is_ascii_uppercase());
        if !alpha2 {
            problem(
                "nationality",
                "must be an ISO 3166-1 alpha-2 code such as CN",
            );
        }
        if self.honours.len() > 50 {
            problem("honours", "at most 50 honours");
        }
        if self.honours.iter().any(|h| h.rank == Some(0)) {
            problem("honours", "a rank starts at 1");
        }
        if self.months_in_district.is_some_and(|m| m > 12) {
            problem("months_in_district", "at most 12");
        }
        if let Err(e) = free_text::NAME.required(&self.employer.name) {
            problem("employer.name", &e.to_string());
        }
        if let Err(message) = crate::domain::credit_code::check(&self.employer.credit_code) {
            problem("employer.credit_code", message);
        }
        problems
    }
}
