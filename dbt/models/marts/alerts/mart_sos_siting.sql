{#- Where could the next SOS points go, what would each cost and what would it bring?

    Candidates: every monitoring camera point in service (an SOS point must be inside
    camera coverage, DOMAIN.md). Kind of place, by what lies within 150 m: `playground`,
    else `park`, else `busy_street` (a transit or commercial place, macros/area_type.sql),
    else `residential_street`. Cost variant (the city's two estimates): `existing
    infrastructure` where the register says the point has fibre and power (mount on its
    pole), otherwise `new post` (new post, fibre and power from scratch).

    Calibration, per kind of place: the alert volume a day is the Kraków pilot's own
    rate for points of that kind (fct_sos_alert, days since each point's first alert);
    kinds the pilot has not tried get the pilot's overall rate, flagged. The
    unconfirmed and health-or-life shares are Beta–binomial posteriors: Łódź's shares
    (1,128 and 9 of 1,181 alerts) as the prior, weighted as one average Łódź point
    (1,181 / 27 alerts), updated with the Kraków pilot's alerts of that kind — so a
    busy street's very high false-alert share (ul. Piotrkowska) shows as soon as the
    pilot sees it. Pilot recommendation (DOMAIN.md: one point with existing fibre and
    power, inside coverage): the existing-infrastructure candidate with the most
    expected confirmed alerts a year among kinds of place the pilot has measured (then
    the others), ties to the lowest false-alert share. -#}
with cameras as (
    select
        camera_point_id,
        camera_point_version_id,
        location_name,
        district_id,
        has_fibre,
        has_power,
        easting_m,
        northing_m
    from {{ ref('dim_camera_point') }}
    where is_current and camera_kind in ('city_monitoring', 'multisensor')
),

-- what lies around each position: one spatial join, in int_camera_position_context
context as (
    select * from {{ ref('int_camera_position_context') }}
),

kinds as (
    select
        -- an EXCLUDE list names columns of the star it follows
        cameras.* exclude (camera_point_version_id),  -- noqa: RF02
        case
            when context.playgrounds_150m > 0 then 'playground'
            when context.parks_150m > 0 then 'park'
            when context.area_type in ('transit', 'commercial') then 'busy_street'
            else 'residential_street'
        end as place_kind
    from cameras
    inner join context on cameras.camera_point_version_id = context.camera_point_version_id
),

pilot_points as (
    select
        alerts.point_id,
        any_value(alerts.camera_point_id) as camera_point_id,
        count(*) as alerts,
        count(*) filter (where alerts.is_unconfirmed) as unconfirmed,
        count(*) filter (where alerts.is_threat_to_health_life) as health_life,
        greatest(1, date_diff('day', min(alerts.pressed_date), max(alerts.pressed_date)) + 1) as days_observed
    from {{ ref('fct_sos_alert') }} as alerts
    group by alerts.point_id
),

pilot_by_kind as (
    select
        kinds.place_kind,
        count(*) as pilot_points,
        sum(pilot_points.alerts) as alerts,
        sum(pilot_points.unconfirmed) as unconfirmed,
        sum(pilot_points.health_life) as health_life,
        sum(pilot_points.alerts) / sum(pilot_points.days_observed) as alerts_per_day
    from pilot_points
    inner join kinds on pilot_points.camera_point_id = kinds.camera_point_id
    group by kinds.place_kind
),

pilot_overall as (
    select sum(alerts) / nullif(sum(days_observed), 0) as alerts_per_day from pilot_points
),

lodz as (
    select
        alerts / points as prior_alerts,
        unconfirmed / alerts as unconfirmed_share,
        confirmed_health_life / alerts as health_life_share
    from {{ ref('lodz_sos_reference') }}
),

calibrated as (
    select
        kinds.*,
        coalesce(pilot_by_kind.pilot_points, 0) as pilot_points_of_kind,
        coalesce(pilot_by_kind.alerts, 0) as pilot_alerts_of_kind,
        coalesce(pilot_by_kind.alerts_per_day, pilot_overall.alerts_per_day) as expected_alerts_per_day,
        (lodz.prior_alerts * lodz.unconfirmed_share + coalesce(pilot_by_kind.unconfirmed, 0))
        / (lodz.prior_alerts + coalesce(pilot_by_kind.alerts, 0)) as expected_unconfirmed_share,
        (lodz.prior_alerts * lodz.health_life_share + coalesce(pilot_by_kind.health_life, 0))
        / (lodz.prior_alerts + coalesce(pilot_by_kind.alerts, 0)) as expected_health_life_share,
        case when pilot_by_kind.place_kind is not null
                then 'Kraków pilot points of this kind, shares shrunk towards Łódź'
            when pilot_overall.alerts_per_day is not null
                then 'kind not in the pilot: the pilot''s overall rate, Łódź shares'
            else 'no pilot alerts yet: Łódź shares only, volume unknown'
        end as calibration_basis
    from kinds
    cross join lodz
    cross join pilot_overall
    left join pilot_by_kind on kinds.place_kind = pilot_by_kind.place_kind
),

final as (
    select
        camera_point_id,
        location_name,
        district_id,
        easting_m,
        northing_m,
        place_kind,
        case when has_fibre and has_power then 'existing infrastructure' else 'new post' end as cost_variant,
        pilot_points_of_kind::integer as pilot_points_of_kind,
        pilot_alerts_of_kind::bigint as pilot_alerts_of_kind,
        expected_alerts_per_day,
        expected_alerts_per_day * 365 as expected_alerts_per_year,
        expected_unconfirmed_share,
        expected_alerts_per_day * 365 * (1 - expected_unconfirmed_share) as expected_confirmed_per_year,
        expected_alerts_per_day * 365 * expected_health_life_share as expected_health_life_per_year,
        calibration_basis,
        coalesce(
            has_fibre and has_power
            and row_number() over (
                partition by has_fibre and has_power
                order by
                    pilot_points_of_kind > 0 desc,
                    expected_alerts_per_day * (1 - expected_unconfirmed_share) desc nulls last,
                    expected_unconfirmed_share, camera_point_id asc
            ) = 1, false
        ) as is_pilot_recommendation
    from calibrated
)

select * from final
