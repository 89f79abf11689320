{#- Camera points with their full history, one row per position a point has held
    (type-2 dimension): installs, moves and removals as the Security Department's
    successive inventory snapshots record them (SPEC §1: history arises from successive
    snapshots). A position is valid from the day it was taken (installation, or the
    last move) until the next move or the removal. Built from the delivered snapshots
    rather than with `dbt snapshot`, which would date each change by when the
    platform happened to run, not by what the city's register says. -#}
with snapshots as (
    select * from {{ ref('stg_cameras_wbizk__camera_point_snapshots') }}
),

positions as (
    select
        camera_point_id,
        coalesce(last_moved_date, installed_date) as valid_from,
        -- the latest snapshot that shows the point at this position describes it
        arg_max(location_name, snapshot_date) as location_name,
        arg_max(district_id, snapshot_date) as district_id,
        arg_max(camera_kind, snapshot_date) as camera_kind,
        arg_max(camera_count, snapshot_date) as camera_count,
        arg_max(installed_date, snapshot_date) as installed_date,
        arg_max(has_fibre, snapshot_date) as has_fibre,
        arg_max(has_power, snapshot_date) as has_power,
        arg_max(capital_cost_pln, snapshot_date) as capital_cost_pln,
        arg_max(latitude, snapshot_date) as latitude,
        arg_max(longitude, snapshot_date) as longitude,
        min(snapshot_date) as first_seen_snapshot_date,
        max(snapshot_date) as last_seen_snapshot_date
    from snapshots
    group by camera_point_id, coalesce(last_moved_date, installed_date)
),

removal as (
    select
        camera_point_id,
        arg_max(removed_date, snapshot_date) as removed_date
    from snapshots
    group by camera_point_id
),

versioned as (
    select
        positions.*,
        row_number() over (partition by positions.camera_point_id order by positions.valid_from) as position_no,
        lead(positions.valid_from) over (partition by positions.camera_point_id order by positions.valid_from)
            as next_position_from,
        removal.removed_date
    from positions
    inner join removal on positions.camera_point_id = removal.camera_point_id
),

located as (
    select
        *,
        {{ metric_point_from_wgs84('longitude', 'latitude') }} as point_geom
    from versioned
),

final as (
    select
        camera_point_id || '#' || position_no as camera_point_version_id,
        camera_point_id,
        position_no::integer as position_no,
        valid_from,
        coalesce(next_position_from, removed_date) as valid_to,
        case when next_position_from is not null then 'moved'
            when removed_date is not null then 'removed'
        end as ended_by,
        next_position_from is null and removed_date is null as is_current,
        location_name,
        district_id,
        camera_kind,
        camera_count,
        installed_date,
        removed_date,
        has_fibre,
        has_power,
        capital_cost_pln,
        latitude,
        longitude,
        st_x(point_geom) as easting_m,
        st_y(point_geom) as northing_m,
        first_seen_snapshot_date,
        last_seen_snapshot_date
    from located
)

select * from final
