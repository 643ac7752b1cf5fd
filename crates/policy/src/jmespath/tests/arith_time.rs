//! Arithmetic and time functions, with the cases of Kyverno's `arithmetic_test.go` and
//! `time_test.go`.

use serde_json::json;

use super::{eval, fails};

#[test]
fn add_subtract_sum() {
    assert_eq!(eval("add(`12`, `13`)"), json!(25.0));
    assert_eq!(eval("add('12Ki', '13Ki')"), json!("25Ki"));
    assert_eq!(eval("add('12Ki', '13')"), json!("12301"));
    assert_eq!(eval("add('12s', '13s')"), json!("25s"));
    assert_eq!(eval("add('1Gi', '512Mi')"), json!("1536Mi"));
    assert_eq!(eval("add('100m', '1')"), json!("1100m"));
    assert_eq!(eval("add('1h', '1800s')"), json!("1h30m0s"));
    // `30m` parses as a quantity (30 milli) before it could be a duration, as in Kyverno.
    assert!(fails("add('1h', '30m')").contains("Types mismatch"));
    assert_eq!(eval("subtract(`12`, `13`)"), json!(-1.0));
    assert_eq!(eval("subtract('12Ki', '13Ki')"), json!("-1Ki"));
    assert_eq!(eval("subtract('12Ki', '13')"), json!("12275"));
    assert_eq!(eval("subtract('12s', '13s')"), json!("-1s"));
    for bad in [
        "add('12', '13s')",
        "add(`12`, '13Ki')",
        "add(`12`, '13')",
        "add('12Ki', '13s')",
        "add('12Ki', `13`)",
        "add('12s', `13`)",
        "add('12s', '13Ki')",
        "add('abc', '1')",
        "add(`true`, `1`)",
        "subtract('12', '13s')",
        "subtract('12Ki', `13`)",
        "subtract('12s', '13')",
    ] {
        assert!(
            fails(bad).contains("add") || bad.starts_with("subtract"),
            "{bad}"
        );
    }
    assert_eq!(eval("sum([`12`])"), json!(12));
    assert_eq!(eval("sum([`12`, `13`, `1`, `4`])"), json!(30.0));
    assert_eq!(eval("sum(['12Ki', '13Ki', '1Ki', '4Ki'])"), json!("30Ki"));
    assert_eq!(eval("sum(['12Ki'])"), json!("12Ki"));
    assert_eq!(eval("sum(['12Ki', '13'])"), json!("12301"));
    assert_eq!(eval("sum(['12s', '13s', '1s', '4s'])"), json!("30s"));
    // Kyverno rejects an empty array; Signet keeps the JMESPath result.
    assert_eq!(eval("sum(`[]`)"), json!(0.0));
    for bad in [
        "sum(['12', '13s'])",
        "sum([`12`, '13Ki'])",
        "sum(['12Ki', `13`])",
        "sum(['12s', '13'])",
        "sum('a')",
    ] {
        fails(bad);
    }
}

#[test]
fn multiply_divide_modulo_round() {
    assert_eq!(eval("multiply('12Ki', `2`)"), json!("24Ki"));
    assert_eq!(eval("multiply('12s', `2`)"), json!("24s"));
    assert_eq!(eval("multiply(`2.5`, `2.5`)"), json!(6.25));
    assert_eq!(eval("multiply(`2.5`, '12Ki')"), json!("30Ki"));
    assert_eq!(eval("multiply(`2.5`, '12')"), json!("30"));
    assert_eq!(eval("multiply(`2.5`, '40s')"), json!("1m40s"));
    for bad in [
        "multiply('12Ki', '12Ki')",
        "multiply('12Ki', '12s')",
        "multiply('12s', '12s')",
        "multiply('12s', '12')",
    ] {
        fails(bad);
    }
    assert_eq!(eval("divide('256M', '256M')"), json!(1.0));
    assert_eq!(eval("divide('512M', '256M')"), json!(2.0));
    assert_eq!(eval("divide('8', '3')"), json!(8.0 / 3.0));
    assert_eq!(eval("divide('128M', '256M')"), json!(0.5));
    assert_eq!(eval("divide('12Ki', `3`)"), json!("4Ki"));
    assert_eq!(eval("divide('12Ki', '2Ki')"), json!(6.0));
    assert_eq!(eval("divide('12Ki', '200')"), json!(61.44));
    assert_eq!(eval("divide('12s', `3`)"), json!("4s"));
    assert_eq!(eval("divide('12s', '5s')"), json!(2.4));
    assert_eq!(eval("divide(`14`, `3`)"), json!(4.666666666666667));
    assert_eq!(eval("divide('10', `3`)"), json!("3"));
    assert_eq!(eval("divide('10.0', `3`)"), json!("3300m"));
    for bad in [
        "divide('12Ki', '2s')",
        "divide('12s', '4Ki')",
        "divide(`14`, '5s')",
        "divide(`14`, '5')",
        "divide(`14`, `0`)",
        "divide('4Ki', `0`)",
        "divide('4Ki', '0Ki')",
        "divide('4s', '0s')",
        "divide('4s', `0`)",
    ] {
        fails(bad);
    }
    assert_eq!(eval("modulo('12Ki', '5Ki')"), json!("2Ki"));
    assert_eq!(eval("modulo('13s', '2s')"), json!("1s"));
    assert_eq!(eval("modulo(`13`, `5`)"), json!(3.0));
    assert!(fails("modulo('4', '1.5')").contains("Non-integer"));
    assert!(fails("modulo(`14`, `0`)").contains("Zero divisor"));
    for bad in [
        "modulo('12', '13s')",
        "modulo('12Ki', `13`)",
        "modulo('13s', `2`)",
        "modulo(`14.5`, `2`)",
        "modulo('4s', '0s')",
        "modulo('4Ki', '0Ki')",
    ] {
        fails(bad);
    }
    assert_eq!(eval("round(`9.414675`, `2`)"), json!(9.41));
    assert_eq!(eval("round(`14.123`, `6`)"), json!(14.123));
    assert_eq!(eval("round(`2.5`, `0`)"), json!(3.0));
    for bad in [
        "round(`23`, '12Ki')",
        "round(`14`, `1.5`)",
        "round(`14`, `-2`)",
    ] {
        fails(bad);
    }
    assert_eq!(eval("avg(`[]`)"), json!(null));
    assert_eq!(eval("avg(`[1, 2]`)"), json!(1.5));
}

#[test]
fn time_functions() {
    assert_eq!(
        eval("time_since('', '2021-01-02T15:04:05-07:00', '2021-01-10T03:14:05-07:00')"),
        json!("180h10m0s")
    );
    assert_eq!(
        eval("time_since('Mon Jan _2 15:04:05 MST 2006', 'Mon Jan 02 15:04:05 MST 2021', 'Mon Jan 10 03:14:16 MST 2021')"),
        json!("180h10m11s")
    );
    assert_eq!(
        eval("time_to_cron('2023-02-02T15:04:05Z')"),
        json!("4 15 2 2 4")
    );
    assert_eq!(
        eval("time_to_cron(time_utc('2023-02-02T15:04:05-07:00'))"),
        json!("4 22 2 2 4")
    );
    assert_eq!(
        eval("time_add('2021-01-02T15:04:05-07:00', '3h')"),
        json!("2021-01-02T18:04:05-07:00")
    );
    assert_eq!(
        eval("time_add(time_parse('Mon Jan 02 15:04:05 -0700 2006', 'Sat Jan 02 15:04:05 -0700 2021'), '5h30m40s')"),
        json!("2021-01-02T20:34:45-07:00")
    );
    assert_eq!(
        eval("time_parse('2006-01-02T15:04:05Z07:00', '2021-01-02T15:04:05-07:00')"),
        json!("2021-01-02T15:04:05-07:00")
    );
    assert_eq!(
        eval("time_parse('1702691171', '1702691171')"),
        json!("2023-12-16T01:46:11Z")
    );
    assert_eq!(
        eval("time_parse('Jan 2, 2006 at 3:04pm (MST)', 'Feb 3, 2013 at 7:54pm (PST)')"),
        json!("2013-02-03T19:54:00Z")
    );
    assert_eq!(
        eval("time_parse('2006-01-02 15:04:05.000 MST', '2021-05-06 07:08:09.123 GMT+3')"),
        json!("2021-05-06T07:08:09+03:00")
    );
    assert_eq!(
        eval("time_utc('2023-02-02T15:04:05-07:00')"),
        json!("2023-02-02T22:04:05Z")
    );
    assert_eq!(
        eval("time_utc('2023-02-02T15:04:05.999Z')"),
        json!("2023-02-02T15:04:05Z")
    );
    assert_eq!(
        eval("time_diff('2021-01-02T15:04:05-07:00', '2021-01-10T03:14:05-07:00')"),
        json!("180h10m0s")
    );
    assert_eq!(
        eval("time_diff('2021-01-02T15:04:05Z', '2021-01-02T15:04:05.5Z')"),
        json!("500ms")
    );
    assert_eq!(
        eval("time_before('2021-01-02T15:04:05-07:00', '2021-01-02T16:04:05-07:00')"),
        json!(true)
    );
    assert_eq!(
        eval("time_before('2021-01-02T15:04:05-07:00', '2021-01-02T15:04:05-07:00')"),
        json!(false)
    );
    assert_eq!(
        eval("time_after('2021-01-02T16:04:05-07:00', '2021-01-02T15:04:05-07:00')"),
        json!(true)
    );
    assert_eq!(
        eval("time_after('2021-01-02T15:04:05-07:00', '2021-01-02T22:04:05Z')"),
        json!(false)
    );
    assert_eq!(eval("time_between('2021-01-02T17:04:05-07:00', '2021-01-02T15:04:05-07:00', '2021-01-02T18:04:05-07:00')"), json!(true));
    assert_eq!(eval("time_between('2021-01-02T15:04:05-07:00', '2021-01-02T15:04:05-07:00', '2021-01-02T18:04:05-07:00')"), json!(false));
    assert_eq!(
        eval("time_truncate('2023-02-02T15:04:05Z', '1h')"),
        json!("2023-02-02T15:00:00Z")
    );
    assert_eq!(
        eval("time_truncate('2023-02-02T15:04:05+05:30', '1h')"),
        json!("2023-02-02T14:30:00+05:30")
    );
    let since = eval("time_since('', '2020-01-01T00:00:00Z', '')");
    let hours: f64 = since
        .as_str()
        .and_then(|s| s.split('h').next())
        .and_then(|h| h.parse().ok())
        .unwrap_or(0.0);
    assert!(hours > 24.0 * 365.0 * 5.0, "{since}");
    let now = eval("time_now_utc()");
    assert!(
        now.as_str()
            .is_some_and(|s| s.ends_with('Z') && s.len() == 20),
        "{now}"
    );
    assert!(eval("time_now()").as_str().is_some_and(|s| s.len() >= 20));
    for bad in [
        "time_since('', 'yesterday', '')",
        "time_since('', `1`, '')",
        "time_add('2021-01-02T15:04:05Z', '3d')",
        "time_add('2021-01-02', '3h')",
        "time_parse('2006-01-02', '2021-13-01')",
        "time_parse('2006-01-02', '2021-02-30')",
        "time_parse('1', 'x')",
        "time_utc('2021-01-02T25:04:05Z')",
        "time_diff('2021-01-02T15:04:05Z', '')",
        "time_before(`1`, '2021-01-02T15:04:05Z')",
        "time_after('2021-01-02T15:04:05Z', `1`)",
        "time_between('2021-01-02T15:04:05Z', 'x', '2021-01-02T15:04:05Z')",
        "time_truncate('2021-01-02T15:04:05Z', 'x')",
        "time_to_cron('2021-01-02t15:04:05Z')",
        "time_now('x')",
        "time_parse('2006-01-02 15:04 GMT-0700', '2021-05-06 07:08 GMT+3')",
    ] {
        fails(bad);
    }
}
