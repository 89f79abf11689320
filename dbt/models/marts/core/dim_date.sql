{#- One row per day from the first to the last day any fact covers, with the calendar
    attributes the marts group by (ISO week, half-year survey period, Polish weekday). -#}
with bounds as (
    select
        min(d) as first_day,
        max(d) as last_day
    from (
        select min(occurred_date) as d from {{ ref('int_offences_classified') }}
        union all
        select max(occurred_date) from {{ ref('int_offences_classified') }}
        union all
        select min(occurred_date) from {{ ref('fct_intervention') }}
        union all
        select max(occurred_date) from {{ ref('fct_intervention') }}
        union all
        select min(pressed_date) from {{ ref('fct_sos_alert') }}
        union all
        select max(pressed_date) from {{ ref('fct_sos_alert') }}
    ) as ends
),

days as (
    select cast(s.day as date) as date_day
    from bounds, generate_series(
            cast(coalesce(bounds.first_day, current_date) as timestamp),
            cast(coalesce(bounds.last_day, current_date) as timestamp),
            interval 1 day
        ) as s (day)
),

final as (
    select
        date_day,
        -- year and month are published column names (the contract)
        cast(extract(year from date_day) as integer) as year,  -- noqa: RF04
        cast(extract(month from date_day) as integer) as month,  -- noqa: RF04
        cast(extract(day from date_day) as integer) as day_of_month,
        cast(date_trunc('month', date_day) as date) as month_start_date,
        cast(extract(isodow from date_day) as integer) as iso_day_of_week,
        ['poniedziałek', 'wtorek', 'środa', 'czwartek', 'piątek', 'sobota', 'niedziela'][
            cast(extract(isodow from date_day) as integer)
        ] as weekday_pl,
        extract(isodow from date_day) >= 6 as is_weekend,
        cast(extract(isoyear from date_day) as integer) as iso_year,
        cast(extract(week from date_day) as integer) as iso_week,
        cast(extract(year from date_day) as integer)
        || case when extract(month from date_day) <= 6 then 'W' else 'J' end
            as survey_half_year
    from days
)

select * from final
