{#- Physical public-transport stops of Kraków from the real GTFS feeds (bus, tram,
    agglomeration; dbt/reference/gtfs): platforms grouped by stop name, the stop at the
    mean of its platforms in EPSG:2180, with its platform count. -#}
with source as (
    select *
    from read_csv(
            '{{ env_var("DBT_KSP_REFERENCE_DIR") }}/gtfs/GTFS_KRK_*/stops.txt',
            header = true,
            all_varchar = true,
            filename = true
        )
),

platforms as (
    select
        trim(stop_name) as stop_name,
        {{ metric_point_from_wgs84('cast(stop_lon as double)', 'cast(stop_lat as double)') }} as platform_geom
    from source
),

final as (
    select
        stop_name,
        count(*)::integer as platform_count,
        avg(st_x(platform_geom)) as easting_m,
        avg(st_y(platform_geom)) as northing_m
    from platforms
    group by stop_name
)

select * from final
