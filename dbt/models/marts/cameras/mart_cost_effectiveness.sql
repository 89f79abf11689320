{#- What each camera point has cost and what it has given, to the data horizon (the last
    day with intervention logs, not today's date, so a rebuild gives the same figures):
    capital cost from the register (the 68 costed points total 1,605,167.44 PLN),
    maintenance at 635 PLN gross per point per year of service (DOMAIN.md), and the
    City Guard interventions started from the point's cameras. Offences prevented: over
    the point's positions and offence classes, the difference-in-differences expectation
    T_before × C_after / C_before minus the observed T_after in each position's first
    year (mart_camera_effect); per point it is noisy, so the interval-free figure is
    shown with the effect mart's `has_enough_data` share beside it, and the cost per
    offence prevented only where the estimate is positive. -#}
with points as (
    select * from {{ ref('dim_camera_point') }}
),

interventions as (
    select * from {{ ref('fct_intervention') }}
),

horizon as (
    select max(occurred_date) as as_of_date from interventions
),

per_point as (
    select
        camera_point_id,
        min(installed_date) as installed_date,
        max(removed_date) as removed_date,
        max(capital_cost_pln) as capital_cost_pln,
        arg_max(location_name, valid_from) as location_name,
        arg_max(camera_kind, valid_from) as camera_kind,
        arg_max(district_id, valid_from) as district_id,
        count(*) - 1 as moves
    from points
    group by camera_point_id
),

prevented as (
    select
        camera_point_id,
        sum(treated_before * control_after / control_before - treated_after) as offences_prevented,
        avg(has_enough_data::integer) as enough_data_share
    from {{ ref('mart_camera_effect') }}
    where control_before > 0
    group by camera_point_id
),

served as (
    select
        per_point.*,
        horizon.as_of_date,
        greatest(0, date_diff(
            'day', per_point.installed_date,
            least(coalesce(per_point.removed_date, horizon.as_of_date), horizon.as_of_date)
        ))
        / 365.25 as service_years
    from per_point
    cross join horizon
),

counted as (
    select
        served.camera_point_id,
        count(interventions.intervention_id) as interventions_total
    from served
    left join interventions
        on served.camera_point_id = interventions.camera_point_id
            and served.installed_date <= interventions.occurred_date
    group by served.camera_point_id
),

final as (
    select
        served.camera_point_id,
        served.location_name,
        served.camera_kind,
        served.district_id,
        served.installed_date,
        served.removed_date,
        served.moves::integer as moves,
        served.as_of_date,
        served.service_years::double as service_years,
        (served.capital_cost_pln)::decimal(14, 2) as capital_cost_pln,
        cast({{ var('maintenance_pln_per_point_year') }} * served.service_years as decimal(14, 2))
            as maintenance_cost_pln,
        cast(
            coalesce(served.capital_cost_pln, 0)
            + {{ var('maintenance_pln_per_point_year') }} * served.service_years as decimal(14, 2))
            as total_cost_pln,
        served.capital_cost_pln is not null as is_capital_cost_known,
        counted.interventions_total,
        case when served.service_years > 0 then counted.interventions_total / served.service_years end
            as interventions_per_year,
        case when counted.interventions_total > 0 then cast(
                    (
                        coalesce(served.capital_cost_pln, 0)
                        + {{ var('maintenance_pln_per_point_year') }} * served.service_years
                    ) / counted.interventions_total
                    as decimal(14, 2)
                )
        end as cost_per_intervention_pln,
        prevented.offences_prevented as offences_prevented_first_year,
        prevented.enough_data_share as prevented_enough_data_share,
        case when prevented.offences_prevented > 0 then cast(
                    (
                        coalesce(served.capital_cost_pln, 0)
                        + {{ var('maintenance_pln_per_point_year') }} * served.service_years
                    ) / prevented.offences_prevented
                    as decimal(14, 2)
                )
        end as cost_per_offence_prevented_pln
    from served
    inner join counted on served.camera_point_id = counted.camera_point_id
    left join prevented on served.camera_point_id = prevented.camera_point_id
)

select * from final
