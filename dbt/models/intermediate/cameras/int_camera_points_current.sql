{#- The latest known state of every camera point: the row from the newest snapshot
    that lists it, with its position in the metric CRS. -#}
with snapshots as (
    select * from {{ ref('stg_cameras_wbizk__camera_point_snapshots') }}
),

latest as (
    select *
    from snapshots
    qualify row_number() over (partition by camera_point_id order by snapshot_date desc) = 1
),

located as (
    select
        camera_point_id,
        snapshot_date as last_seen_snapshot_date,
        location_name,
        district_id,
        camera_kind,
        camera_count,
        installed_date,
        last_moved_date,
        removed_date,
        coalesce(last_moved_date, installed_date) as position_since_date,
        has_fibre,
        has_power,
        capital_cost_pln,
        latitude,
        longitude,
        {{ metric_point_from_wgs84('longitude', 'latitude') }} as point_geom
    from latest
),

final as (
    select
        *,
        st_x(point_geom) as easting_m,
        st_y(point_geom) as northing_m
    from located
)

select * from final
