{#- Where and when to patrol: for every grid cell and hour of the week, the offences
    recorded there at that hour over the last 52 weeks of data, as a weekly rate, and the
    cell's rank among all cells for that hour (the Safety Map's use case). Traffic
    offences are left out: patrols do not prevent them where cameras would. Only cells
    with at least one offence at that hour appear. Positions are given in WGS84 too, so
    the table exports as a map layer (`ksp export patrol-layer`). -#}
with offences as (
    select * from {{ ref('int_offences_gridded') }}
    where offence_class not in ('traffic', 'unclassified')
),

cells as (
    select * from {{ ref('dim_grid_cell') }}
),

window_ as (
    select
        max(occurred_date) as last_day,
        max(occurred_date) - interval 364 day as first_day
    from offences
),

recent as (
    select offences.*
    from offences, window_
    where offences.occurred_date > window_.first_day
),

counted as (
    select
        cell_id,
        hour_of_week,
        count(*) as offences,
        count(*) filter (where offence_class = 'instrumental_property') as instrumental_offences,
        count(*) filter (where offence_class in ('affective_violence', 'alcohol_drugs')) as affective_offences
    from recent
    group by cell_id, hour_of_week
),

ranked as (
    select
        counted.*,
        counted.offences / 52.0 as offences_per_week,
        rank() over (partition by counted.hour_of_week order by counted.offences desc) as rank_in_hour,
        counted.offences / sum(counted.offences) over (partition by counted.hour_of_week) as share_of_hour
    from counted
),

final as (
    select
        ranked.cell_id,
        ranked.hour_of_week,
        (ranked.hour_of_week // 24 + 1)::integer as iso_day_of_week,
        (ranked.hour_of_week % 24)::integer as hour_of_day,
        ranked.offences,
        ranked.instrumental_offences,
        ranked.affective_offences,
        ranked.offences_per_week,
        ranked.rank_in_hour,
        ranked.share_of_hour,
        window_.first_day::date + 1 as window_start_date,
        window_.last_day as window_end_date,
        cells.district_id,
        cells.centroid_easting_m,
        cells.centroid_northing_m,
        st_y(
            st_transform(
                st_point(cells.centroid_easting_m, cells.centroid_northing_m),
                '{{ var("metric_crs") }}', 'EPSG:4326', always_xy := true
            )
        ) as centroid_latitude,
        st_x(
            st_transform(
                st_point(cells.centroid_easting_m, cells.centroid_northing_m),
                '{{ var("metric_crs") }}', 'EPSG:4326', always_xy := true
            )
        ) as centroid_longitude
    from ranked
    inner join cells on ranked.cell_id = cells.cell_id
    cross join window_
)

select * from final
