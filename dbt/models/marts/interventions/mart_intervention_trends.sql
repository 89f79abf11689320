{#- Camera-initiated City Guard interventions by year, month, category and camera point,
    with the year's total from the logs beside the total the city reported for the same
    span (a reported year "to early December" is compared on the logs up to that day). -#}
with interventions as (
    select * from {{ ref('fct_intervention') }}
),

reported as (
    select * from {{ ref('city_reported_intervention_totals') }}
),

monthly as (
    select
        occurred_year,
        extract(month from occurred_date)::integer as occurred_month,
        category_code,
        category_label,
        camera_point_id,
        count(*) as interventions
    from interventions
    group by all
),

yearly as (
    select
        interventions.occurred_year,
        count(*) as year_total,
        count(
            *) filter (
            where reported.reported_through is null
            or interventions.occurred_date <= reported.reported_through
        ) as year_total_to_reported_date
    from interventions
    left join reported on interventions.occurred_year = reported.year
    group by interventions.occurred_year
),

final as (
    select
        monthly.occurred_year,
        monthly.occurred_month,
        monthly.category_code,
        monthly.category_label,
        monthly.camera_point_id,
        monthly.interventions,
        sum(monthly.interventions) over (
            partition by monthly.occurred_year, monthly.category_code
        ) as year_category_total,
        yearly.year_total,
        yearly.year_total_to_reported_date,
        reported.interventions_reported as city_reported_total,
        reported.reported_through as city_reported_through,
        yearly.year_total_to_reported_date - reported.interventions_reported as difference_from_reported
    from monthly
    inner join yearly on monthly.occurred_year = yearly.occurred_year
    left join reported on monthly.occurred_year = reported.year
)

select * from final
