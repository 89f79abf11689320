{#- One row per recorded offence of the Police, the City Guard and MCPU, with its
    analytic class from the taxonomy, its grid cell and its district: the unified
    fact the camera, displacement and hot-spot marts read. No free text, no street
    number: positions are EPSG:2180 metres, as researchers need them. -#}
with offences as (
    select * from {{ ref('int_offences_classified') }}
),

cells as (
    select
        cell_id,
        district_id
    from {{ ref('dim_grid_cell') }}
),

-- the cell by the same arithmetic as int_offences_gridded (no join on 50 million ids);
-- null outside the grid
celled as (
    select
        offences.*,
        'E' || floor(offences.easting_m / {{ var('grid_cell_m') }})::integer
        || 'N' || floor(offences.northing_m / {{ var('grid_cell_m') }})::integer as candidate_cell_id
    from offences
),

final as (
    select
        offences.offence_id,
        offences.source_system,
        offences.source_record_id,
        offences.occurred_at,
        offences.occurred_date,
        offences.legal_code,
        offences.article,
        offences.offence_class,
        offences.classified_by,
        offences.is_unknown_code,
        offences.easting_m,
        offences.northing_m,
        cells.cell_id,
        coalesce(offences.district_id, cells.district_id) as district_id
    from celled as offences
    left join cells on offences.candidate_cell_id = cells.cell_id
)

select * from final
