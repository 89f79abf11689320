{#- The sites the relocation optimiser chooses among, and what each would cover.

    Candidates: the {{ var('relocation_candidates') }} 50 m squares whose 150 m
    neighbourhood holds the most weighted preventable offences (int_relocation_demand),
    found with one spatial self-join. Cameras: every Security Department monitoring
    point in service, with the share of its first-year effect it still has
    (mart_effect_decay; null where its position predates the data, which the optimiser
    then estimates from the city-wide decay). A site "has infrastructure" when a
    fibre/power access point lies within 100 m, or (cameras) the register says the
    point has fibre and power. Coverage rows: each site with each demand square within
    the 150 m coverage radius. -#}
with demand as (
    select
        *,
        st_point(easting_m, northing_m) as point_geom
    from {{ ref('int_relocation_demand') }}
),

coverable as (
    select
        a.demand_id as site_id,
        sum(b.weighted_value) as coverable_value
    from demand as a
    inner join demand as b on st_dwithin(a.point_geom, b.point_geom, {{ var('camera_radius_m') }})
    group by a.demand_id
),

candidates as (
    select
        demand.demand_id as site_id,
        demand.easting_m,
        demand.northing_m,
        demand.point_geom,
        demand.area_type,
        coverable.coverable_value
    from coverable
    inner join demand on coverable.site_id = demand.demand_id
    where coverable.coverable_value > 0
    order by coverable.coverable_value desc, demand.demand_id asc
    limit {{ var('relocation_candidates') }}
),

decay as (
    select distinct
        camera_point_version_id,
        remaining_effect_share,
        fade_evidence
    from {{ ref('mart_effect_decay') }}
),

cameras as (
    select
        points.camera_point_id as site_id,
        points.easting_m,
        points.northing_m,
        st_point(points.easting_m, points.northing_m) as point_geom,
        points.valid_from,
        points.has_fibre and points.has_power as has_register_infrastructure,
        -- null stays null (unmeasured: the optimiser estimates it from the camera's age);
        -- DuckDB's greatest() skips nulls, so greatest(0, null) would read as "0 % left, measured"
        case
            when decay.remaining_effect_share is not null
                then least(1.0, greatest(0.0, decay.remaining_effect_share))
        end as remaining_effect_share,
        decay.fade_evidence
    from {{ ref('dim_camera_point') }} as points
    left join decay on points.camera_point_version_id = decay.camera_point_version_id
    where points.is_current and points.camera_kind in ('city_monitoring', 'multisensor')
),

access_points as (
    select st_geomfromtext(geometry_wkt_epsg2180) as poi_geom
    from {{ ref('dim_poi') }}
    where poi_kind = 'access_point'
),

sites as (
    select
        site_id,
        'candidate' as site_kind,
        easting_m,
        northing_m,
        point_geom,
        false as has_register_infrastructure,
        cast(null as date) as valid_from,
        cast(null as double) as remaining_effect_share,
        cast(null as varchar) as fade_evidence
    from candidates
    union all
    select
        site_id,
        'camera' as site_kind,
        easting_m,
        northing_m,
        point_geom,
        has_register_infrastructure,
        valid_from,
        remaining_effect_share,
        fade_evidence
    from cameras
),

served as (
    select distinct sites.site_id
    from sites
    inner join access_points on st_dwithin(sites.point_geom, access_points.poi_geom, 100)
),

covering as (
    select
        sites.site_id,
        list(demand.demand_id order by demand.demand_id) as covered_demand_ids
    from sites
    inner join demand on st_dwithin(sites.point_geom, demand.point_geom, {{ var('camera_radius_m') }})
    group by sites.site_id
),

final as (
    select
        sites.site_id,
        sites.site_kind,
        sites.easting_m,
        sites.northing_m,
        sites.valid_from,
        sites.remaining_effect_share,
        sites.fade_evidence,
        sites.has_register_infrastructure or served.site_id is not null as has_infrastructure,
        coalesce(covering.covered_demand_ids, []) as covered_demand_ids
    from sites
    left join served on sites.site_id = served.site_id
    left join covering on sites.site_id = covering.site_id
)

select * from final
