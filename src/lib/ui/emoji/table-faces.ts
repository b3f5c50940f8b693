/**
 * Emoji table: smileys & emotion, people & body (Unicode CLDR short names, keywords chosen for
 * search). One entry a line: `<emoji> <name> | <keywords>`. Data only; parsed in emoji-data.ts.
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
👋 waving hand | hello hi bye wave
🤚 raised back of hand | stop
🖐️ hand with fingers splayed | hand five
✋ raised hand | stop high five
🖖 vulcan salute | spock
👌 OK hand | ok perfect
🤏 pinching hand | small tiny little
✌️ victory hand | peace
🤞 crossed fingers | luck hope
🤟 love-you gesture | love
🤘 sign of the horns | rock metal
🤙 call me hand | call shaka
👈 backhand index pointing left | left point
👉 backhand index pointing right | right point
👆 backhand index pointing up | up point
👇 backhand index pointing down | down point
☝️ index pointing up | up one
👍 thumbs up | like yes approve good +1
👎 thumbs down | dislike no bad -1
✊ raised fist | fist power
👊 oncoming fist | punch bump
🤛 left-facing fist | fist bump
🤜 right-facing fist | fist bump
👏 clapping hands | clap applause bravo
🙌 raising hands | hooray celebrate praise
👐 open hands | hug
🤲 palms up together | prayer
🤝 handshake | deal agreement
🙏 folded hands | please thanks pray
✍️ writing hand | write
💅 nail polish | nails beauty
🤳 selfie | camera phone
💪 flexed biceps | strong muscle
👂 ear | hear listen
👃 nose | smell
🧠 brain | smart think
👀 eyes | look see watch
👁️ eye | see
👅 tongue | taste
👄 mouth | lips
👶 baby | child newborn
🧒 child | kid
👦 boy | kid
👧 girl | kid
🧑 person | adult
👱 person with blond hair | blond
👨 man | male
🧔 person with beard | beard
👩 woman | female
🧓 older person | old elderly
👴 old man | grandpa
👵 old woman | grandma
🙍 person frowning | sad
🙎 person pouting | upset
🙅 person gesturing no | no stop
🙆 person gesturing OK | ok yes
💁 person tipping hand | info sassy
🙋 person raising hand | hi question
🤦 person facepalming | facepalm ugh
🤷 person shrugging | shrug dunno whatever
🧑‍💻 technologist | developer coder computer
🧑‍🍳 cook | chef
🧑‍🎓 student | graduate school
🧑‍⚕️ health worker | doctor nurse
👮 police officer | police cop
💂 guard | guard
👷 construction worker | builder
🤴 prince | royal
👸 princess | royal
🎅 Santa Claus | christmas santa
🤶 Mrs. Claus | christmas
🦸 superhero | hero
🧙 mage | wizard witch magic
🧚 fairy | magic
🧛 vampire | dracula
🧜 merperson | mermaid
🧞 genie | wish
🧟 zombie | undead
💆 person getting massage | massage relax
🚶 person walking | walk
🏃 person running | run jog
💃 woman dancing | dance party
🕺 man dancing | dance party
👯 people with bunny ears | party dance
🧘 person in lotus position | yoga meditation
🛀 person taking bath | bath
🛌 person in bed | sleep
👭 women holding hands | couple friends
👫 woman and man holding hands | couple
👬 men holding hands | couple
💏 kiss | couple love
💑 couple with heart | love
👪 family | family
🗣️ speaking head | talk speak
👤 bust in silhouette | person user
`;
