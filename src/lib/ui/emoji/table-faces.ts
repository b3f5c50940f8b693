/**
 * Emoji table: smileys & emotion, people & body (Unicode CLDR short names, keywords chosen for
 * search). One entry a line: `<emoji> <name> | <keywords>`, plus ` | tones` where the emoji takes a
 * skin tone (its base is Unicode Emoji_Modifier_Base and every toned form is RGI; skin-tone.ts).
 * Data only; parsed in emoji-data.ts.
 */
export const SMILEYS = `
😀 grinning face | smile happy
😃 grinning face with big eyes | smile happy joy
😄 grinning face with smiling eyes | smile happy laugh
😁 beaming face with smiling eyes | grin happy
😆 grinning squinting face | laugh satisfied
😅 grinning face with sweat | relief nervous phew
🤣 rolling on the floor laughing | rofl lol laugh
😂 face with tears of joy | lol laugh crying funny
🙂 slightly smiling face | smile
🙃 upside-down face | silly sarcasm
😉 winking face | wink flirt
😊 smiling face with smiling eyes | blush happy
😇 smiling face with halo | angel innocent
🥰 smiling face with hearts | love adore crush
😍 smiling face with heart-eyes | love crush
🤩 star-struck | wow amazing excited
😘 face blowing a kiss | kiss love
😗 kissing face | kiss
☺️ smiling face | relaxed happy
😚 kissing face with closed eyes | kiss
😋 face savoring food | yum delicious tasty
😛 face with tongue | tongue playful
😜 winking face with tongue | crazy joke playful
🤪 zany face | crazy goofy wild
😝 squinting face with tongue | tongue gross
🤑 money-mouth face | rich money
🤗 hugging face | hug thanks
🤭 face with hand over mouth | oops giggle
🤫 shushing face | quiet secret shh
🤔 thinking face | hmm think wonder
🤐 zipper-mouth face | secret quiet
🤨 face with raised eyebrow | skeptical doubt
😐 neutral face | meh blank
😑 expressionless face | meh
😶 face without mouth | speechless silent
😏 smirking face | smirk smug
😒 unamused face | meh unimpressed
🙄 face with rolling eyes | eyeroll whatever
😬 grimacing face | awkward eek
🤥 lying face | lie pinocchio
😌 relieved face | relief calm
😔 pensive face | sad dejected
😪 sleepy face | tired
🤤 drooling face | drool hungry
😴 sleeping face | sleep zzz tired
😷 face with medical mask | sick ill mask
🤒 face with thermometer | sick ill fever
🤕 face with head-bandage | hurt injured
🤢 nauseated face | sick gross
🤮 face vomiting | sick puke
🤧 sneezing face | sick cold
🥵 hot face | heat sweating
🥶 cold face | freezing ice
🥴 woozy face | dizzy drunk
😵 face with crossed-out eyes | dizzy dead
🤯 exploding head | mind blown shocked
🤠 cowboy hat face | cowboy
🥳 partying face | party celebrate birthday
😎 smiling face with sunglasses | cool sun
🤓 nerd face | geek
🧐 face with monocle | inspect curious
😕 confused face | confused
😟 worried face | worried concern
🙁 slightly frowning face | sad frown
☹️ frowning face | sad
😮 face with open mouth | wow surprise
😯 hushed face | surprised
😲 astonished face | shocked amazed
😳 flushed face | embarrassed blush
🥺 pleading face | please puppy eyes
😦 frowning face with open mouth | shock
😧 anguished face | pain
😨 fearful face | scared fear
😰 anxious face with sweat | nervous
😥 sad but relieved face | phew
😢 crying face | sad tear
😭 loudly crying face | sob sad cry
😱 face screaming in fear | scream scared horror
😖 confounded face | frustrated
😣 persevering face | struggle
😞 disappointed face | sad
😓 downcast face with sweat | hard work
😩 weary face | tired fed up
😫 tired face | exhausted
🥱 yawning face | bored tired yawn
😤 face with steam from nose | triumph angry huff
😡 pouting face | angry rage mad
😠 angry face | mad annoyed
🤬 face with symbols on mouth | swearing cursing
😈 smiling face with horns | devil evil
👿 angry face with horns | devil imp
💀 skull | dead death
💩 pile of poo | poop
🤡 clown face | clown
👻 ghost | boo halloween
👽 alien | ufo extraterrestrial
🤖 robot | bot machine
😺 grinning cat | cat smile
😹 cat with tears of joy | cat laugh
😻 smiling cat with heart-eyes | cat love
🙈 see-no-evil monkey | monkey shy oops
🙉 hear-no-evil monkey | monkey
🙊 speak-no-evil monkey | monkey secret
💋 kiss mark | kiss lips
💌 love letter | love mail
❤️ red heart | love like
🧡 orange heart | love
💛 yellow heart | love
💚 green heart | love
💙 blue heart | love
💜 purple heart | love
🖤 black heart | love
🤍 white heart | love
🤎 brown heart | love
💔 broken heart | sad breakup
❣️ heart exclamation | love
💕 two hearts | love
💞 revolving hearts | love
💓 beating heart | love heartbeat
💗 growing heart | love
💖 sparkling heart | love
💘 heart with arrow | love cupid
💝 heart with ribbon | love gift
💯 hundred points | 100 perfect score
💢 anger symbol | angry
💥 collision | boom explosion
💫 dizzy | star
💦 sweat droplets | water splash
💨 dashing away | wind fast
💬 speech balloon | chat message comment
💭 thought balloon | think
💤 zzz | sleep
`;

export const PEOPLE = `
👋 waving hand | hello hi bye wave | tones
🤚 raised back of hand | stop | tones
🖐️ hand with fingers splayed | hand five | tones
✋ raised hand | stop high five | tones
🖖 vulcan salute | spock | tones
👌 OK hand | ok perfect | tones
🤏 pinching hand | small tiny little | tones
✌️ victory hand | peace | tones
🤞 crossed fingers | luck hope | tones
🤟 love-you gesture | love | tones
🤘 sign of the horns | rock metal | tones
🤙 call me hand | call shaka | tones
👈 backhand index pointing left | left point | tones
👉 backhand index pointing right | right point | tones
👆 backhand index pointing up | up point | tones
👇 backhand index pointing down | down point | tones
☝️ index pointing up | up one | tones
👍 thumbs up | like yes approve good +1 | tones
👎 thumbs down | dislike no bad -1 | tones
✊ raised fist | fist power | tones
👊 oncoming fist | punch bump | tones
🤛 left-facing fist | fist bump | tones
🤜 right-facing fist | fist bump | tones
👏 clapping hands | clap applause bravo | tones
🙌 raising hands | hooray celebrate praise | tones
👐 open hands | hug | tones
🤲 palms up together | prayer | tones
🤝 handshake | deal agreement | tones
🙏 folded hands | please thanks pray | tones
✍️ writing hand | write | tones
💅 nail polish | nails beauty | tones
🤳 selfie | camera phone | tones
💪 flexed biceps | strong muscle | tones
👂 ear | hear listen | tones
👃 nose | smell | tones
🧠 brain | smart think
👀 eyes | look see watch
👁️ eye | see
👅 tongue | taste
👄 mouth | lips
👶 baby | child newborn | tones
🧒 child | kid | tones
👦 boy | kid | tones
👧 girl | kid | tones
🧑 person | adult | tones
👱 person with blond hair | blond | tones
👨 man | male | tones
🧔 person with beard | beard | tones
👩 woman | female | tones
🧓 older person | old elderly | tones
👴 old man | grandpa | tones
👵 old woman | grandma | tones
🙍 person frowning | sad | tones
🙎 person pouting | upset | tones
🙅 person gesturing no | no stop | tones
🙆 person gesturing OK | ok yes | tones
💁 person tipping hand | info sassy | tones
🙋 person raising hand | hi question | tones
🤦 person facepalming | facepalm ugh | tones
🤷 person shrugging | shrug dunno whatever | tones
🧑‍💻 technologist | developer coder computer | tones
🧑‍🍳 cook | chef | tones
🧑‍🎓 student | graduate school | tones
🧑‍⚕️ health worker | doctor nurse | tones
👮 police officer | police cop | tones
💂 guard | guard | tones
👷 construction worker | builder | tones
🤴 prince | royal | tones
👸 princess | royal | tones
🎅 Santa Claus | christmas santa | tones
🤶 Mrs. Claus | christmas | tones
🦸 superhero | hero | tones
🧙 mage | wizard witch magic | tones
🧚 fairy | magic | tones
🧛 vampire | dracula | tones
🧜 merperson | mermaid | tones
🧞 genie | wish
🧟 zombie | undead
💆 person getting massage | massage relax | tones
🚶 person walking | walk | tones
🏃 person running | run jog | tones
💃 woman dancing | dance party | tones
🕺 man dancing | dance party | tones
👯 people with bunny ears | party dance | tones
🧘 person in lotus position | yoga meditation | tones
🛀 person taking bath | bath | tones
🛌 person in bed | sleep | tones
👭 women holding hands | couple friends | tones
👫 woman and man holding hands | couple | tones
👬 men holding hands | couple | tones
💏 kiss | couple love | tones
💑 couple with heart | love | tones
👪 family | family
🗣️ speaking head | talk speak
👤 bust in silhouette | person user
`;
