{#- Are the places of children and crowds watched? Every school, kindergarten,
    playground and transit node (dim_poi) with the nearest camera in service today, its
    coverage (a camera within 150 m, the coverage radius), and the offences around it;
    the uncovered ones near a hotspot are the candidates the relocation plan weighs.

    Near a hotspot: within 250 m (one grid cell) of a cell that was a 95 % Gi* hotspot
    in the latest year of data for any class. Offences around: within 300 m in the last
    365 days of data. One spatial join within 1,000 m to the cameras, one within 300 m
    to the offences, counted with FILTER. -#}
with places as (
    select * from {{ ref('dim_poi') }}
    where poi_kind in ('school', 'kindergarten', 'playground', 'transfer_node', 'loop')
),

cameras as (
    select
        camera_point_id,
        st_point(easting_m, northing_m) as point_geom
    from {{ ref('dim_camera_point') }}
    where is_current and camera_kind in ('city_monitoring', 'multisensor')
),

horizon as (
    select max(occurred_date) as last_day from {{ ref('fct_incident') }}
),

offences as (
    select st_point(incidents.easting_m, incidents.northing_m) as point_geom
    from {{ ref('fct_incident') }} as incidents, horizon
    where incidents.easting_m is not null and incidents.occurred_date > horizon.last_day - interval 365 day
),

hot_cells as (
    select distinct
        centroid_easting_m,
        centroid_northing_m
    from {{ ref('mart_hotspots') }}
    where is_hotspot_95
        and period_year = (select max(latest.period_year) from {{ ref('mart_hotspots') }} as latest)
),

located as (
    select
        poi_id,
        poi_kind,
        poi_name,
        district_id,
        easting_m,
        northing_m,
        st_point(easting_m, northing_m) as point_geom
    from places
),

nearest_camera as (
    select
        located.poi_id,
        arg_min(cameras.camera_point_id, st_distance(located.point_geom, cameras.point_geom)) as camera_point_id,
        min(st_distance(located.point_geom, cameras.point_geom)) as distance_m
    from located
    inner join cameras on st_dwithin(located.point_geom, cameras.point_geom, 1000)
    group by located.poi_id
),

offences_near as (
    select
        located.poi_id,
        count(*) as offences_300m_last_year
    from located
    inner join offences on st_dwithin(located.point_geom, offences.point_geom, 300)
    group by located.poi_id
),

hotspot_near as (
    select distinct located.poi_id
    from located
    inner join hot_cells
        on st_dwithin(
                located.point_geom, st_point(hot_cells.centroid_easting_m, hot_cells.centroid_northing_m),
                250 + {{ var('grid_cell_m') }} / 2
            )
),

final as (
    select
        located.poi_id,
        located.poi_kind,
        located.poi_name,
        located.district_id,
        located.easting_m,
        located.northing_m,
        nearest_camera.camera_point_id as nearest_camera_point_id,
        nearest_camera.distance_m as nearest_camera_distance_m,
        coalesce(nearest_camera.distance_m <= {{ var('camera_radius_m') }}, false) as is_covered,
        hotspot_near.poi_id is not null as is_near_hotspot,
        coalesce(offences_near.offences_300m_last_year, 0) as offences_300m_last_year,
        coalesce(nearest_camera.distance_m > {{ var('camera_radius_m') }}, true)
        and hotspot_near.poi_id is not null as is_uncovered_near_hotspot
    from located
    left join nearest_camera on located.poi_id = nearest_camera.poi_id
    left join offences_near on located.poi_id = offences_near.poi_id
    left join hotspot_near on located.poi_id = hotspot_near.poi_id
)

select * from final
