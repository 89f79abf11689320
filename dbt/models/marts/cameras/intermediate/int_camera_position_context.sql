{#- What lies around each camera position, and the kind of place it is (transit,
    commercial, residential), the grouping under which the city judges deterrence, and
    the counts mart_sos_siting judges an SOS point's place by.

    Rule: macros/area_type.sql. One spatial join within 500 m to the places, counted
    with FILTER per distance band. -#}
with positions as (
    select
        camera_point_version_id,
        camera_point_id,
        st_point(easting_m, northing_m) as point_geom
    from {{ ref('dim_camera_point') }}
),

places as (
    select
        poi_id,
        poi_kind,
        st_geomfromtext(geometry_wkt_epsg2180) as poi_geom
    from {{ ref('dim_poi') }}
),

near as (
    select
        positions.camera_point_version_id,
        places.poi_kind,
        st_distance(positions.point_geom, places.poi_geom) as distance_m
    from positions
    inner join places on st_dwithin(positions.point_geom, places.poi_geom, 500)
),

counted as (
    select
        camera_point_version_id,
        count(*) filter (where poi_kind in ('transfer_node', 'loop') and distance_m <= 250) as transit_nodes_250m,
        count(*) filter (where poi_kind = 'commercial' and distance_m <= 300) as commercial_streets_300m,
        count(*) filter (where poi_kind in ('school', 'kindergarten') and distance_m <= 300)
            as schools_kindergartens_300m,
        count(*) filter (where poi_kind = 'playground' and distance_m <= 300) as playgrounds_300m,
        -- what an SOS point's kind of place is judged by (mart_sos_siting)
        count(*) filter (where poi_kind = 'playground' and distance_m <= 150) as playgrounds_150m,
        count(*) filter (where poi_kind = 'park' and distance_m <= 150) as parks_150m,
        min(distance_m) filter (where poi_kind = 'access_point') as nearest_access_point_m
    from near
    group by camera_point_version_id
),

final as (
    select
        positions.camera_point_version_id,
        positions.camera_point_id,
        coalesce(counted.transit_nodes_250m, 0)::integer as transit_nodes_250m,
        coalesce(counted.commercial_streets_300m, 0)::integer as commercial_streets_300m,
        coalesce(counted.schools_kindergartens_300m, 0)::integer as schools_kindergartens_300m,
        coalesce(counted.playgrounds_300m, 0)::integer as playgrounds_300m,
        coalesce(counted.playgrounds_150m, 0)::integer as playgrounds_150m,
        coalesce(counted.parks_150m, 0)::integer as parks_150m,
        counted.nearest_access_point_m,
        st_distance(positions.point_geom, st_point(566960, 244220)) as distance_to_main_square_m,
        {{ area_type('counted.transit_nodes_250m', 'counted.commercial_streets_300m', 'positions.point_geom') }}
            as area_type
    from positions
    left join counted on positions.camera_point_version_id = counted.camera_point_version_id
)

select * from final
